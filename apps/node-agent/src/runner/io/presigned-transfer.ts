import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type TransferErrorCode = 'download_failed' | 'size_mismatch' | 'checksum_mismatch' | 'upload_failed' | 'resume_step_mismatch';

/** A failed presigned transfer. The message never contains the URL (it is a credential). */
export class TransferError extends Error {
  constructor(
    readonly code: TransferErrorCode,
    message: string,
    /** The HTTP status when the server answered; undefined for network failures. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TransferError';
  }
}

export interface DownloadOptions {
  /** The size the API announced; the download fails unless exactly this many bytes arrive. */
  expectedSizeBytes?: number | null;
  /** Hex SHA-256 the API announced; checked when given. */
  sha256?: string | null;
  signal?: AbortSignal;
  /** What is downloaded, for error messages ("dataset", "resume checkpoint"). */
  what?: string;
}

export interface DownloadResult {
  sizeBytes: number;
  sha256: string;
}

/** GETs a presigned URL, streaming the body to `path` (never held in memory), and verifies size and hash. */
export async function downloadToFile(url: string, path: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const what = options.what ?? 'object';
  let response: Response;
  try {
    response = await fetch(url, { signal: options.signal });
  } catch (error) {
    throw new TransferError('download_failed', `could not download the ${what}: ${errorText(error)}`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new TransferError('download_failed', `could not download the ${what}: HTTP ${response.status}`, response.status);
  }
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const limit = options.expectedSizeBytes ?? null;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sizeBytes += chunk.length;
      if (limit !== null && sizeBytes > limit) {
        callback(new TransferError('size_mismatch', `the ${what} is larger than the announced ${limit} bytes`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), meter, createWriteStream(path, { mode: 0o600 }), { signal: options.signal });
  } catch (error) {
    if (error instanceof TransferError) throw error;
    throw new TransferError('download_failed', `the ${what} download broke off: ${errorText(error)}`);
  }
  if (limit !== null && sizeBytes !== limit) {
    throw new TransferError('size_mismatch', `the ${what} has ${sizeBytes} bytes, the API announced ${limit}`);
  }
  const digest = hash.digest('hex');
  if (options.sha256 && options.sha256 !== digest) {
    throw new TransferError('checksum_mismatch', `the ${what}'s SHA-256 does not match the one the API announced`);
  }
  return { sizeBytes, sha256: digest };
}

/**
 * PUTs a file to a presigned URL with an exact Content-Length (S3 refuses chunked uploads), streaming
 * it from disk. Resolves with the number of bytes sent.
 */
export async function uploadFile(
  putUrl: string,
  path: string,
  options: { signal?: AbortSignal; what?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<number> {
  const { size } = await stat(path);
  const what = options.what ?? 'object';
  const url = new URL(putUrl);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'PUT',
        // Signed headers from the assignment first; the length and type are ours.
        headers: { ...options.headers, 'content-length': String(size), 'content-type': options.contentType ?? 'application/octet-stream' },
        signal: options.signal,
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          if (chunks.length < 16) chunks.push(chunk);
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new TransferError('upload_failed', `the ${what} upload was refused: HTTP ${status} ${s3ErrorCode(Buffer.concat(chunks).toString('utf8'))}`.trim(), status));
        });
        response.on('error', (error) => reject(new TransferError('upload_failed', `the ${what} upload broke off: ${errorText(error)}`)));
      },
    );
    req.on('error', (error) => reject(new TransferError('upload_failed', `could not upload the ${what}: ${errorText(error)}`)));
    const file = createReadStream(path);
    file.on('error', (error) => req.destroy(error));
    file.pipe(req);
  });
  return size;
}

/** 5xx, 408 and 429 pass on retry; other answers do not. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Whether a transfer failure may pass on retry with the same kind of URL: no answer at all, a
 * broken-off stream, 5xx, 408 or 429 (not a refused signature, a missing object, a wrong size or hash).
 */
export function isTransientTransferFailure(error: unknown): boolean {
  if (!(error instanceof TransferError) || (error.code !== 'upload_failed' && error.code !== 'download_failed')) return false;
  return error.status === undefined || isTransientStatus(error.status);
}

/** Whether the store refused the URL itself (expired or bad signature: 401/403): a fresh URL may work. */
export function isRefusedUrl(error: unknown): boolean {
  return error instanceof TransferError && (error.status === 401 || error.status === 403);
}

/** Content-Length and Content-Type, then the slot's signed headers (which win, e.g. its own content-type). */
export function uploadHeaders(sizeBytes: number, contentType: string | undefined, signed: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': contentType ?? 'application/octet-stream' };
  for (const [name, value] of Object.entries(signed)) headers[name.toLowerCase()] = value;
  headers['content-length'] = String(sizeBytes);
  return headers;
}

function s3ErrorCode(body: string): string {
  return /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1] ?? '';
}

/** Error text without URLs (presigned URLs carry signatures). */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? (error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message) : String(error);
  return text.replace(/https?:\/\/\S+/g, '[url]');
}
