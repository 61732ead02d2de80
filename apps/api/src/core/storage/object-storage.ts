import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/app-config.js';

/** Every object Anneal writes is encrypted at rest by the store (SSE-S3). */
export const SERVER_SIDE_ENCRYPTION = 'AES256' as const;
/** The header a client must send with a presigned PUT: it is part of the signature. */
export const SSE_HEADER = 'x-amz-server-side-encryption';

export interface PresignedRequest {
  method: 'PUT' | 'GET';
  url: string;
  /** Headers the client must send exactly as given (they are signed). */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface ObjectHead {
  sizeBytes: number;
  etag: string | null;
  serverSideEncryption: string | null;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface StorageSettings {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** Origins browsers may upload/download from; set on the bucket when the API creates it. Empty: no CORS rule. */
  corsOrigins: string[];
}

/** A failure of the object store itself (unreachable, refused): the caller may retry later. */
export class StorageUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`object storage ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StorageUnavailableError';
  }
}

/** The store refused a multipart completion (unknown upload, a part missing or its ETag wrong). */
export class MultipartRejectedError extends Error {
  constructor(readonly s3Code: string, message: string) {
    super(message);
    this.name = 'MultipartRejectedError';
  }
}

export function storageSettingsFromConfig(config: AppConfig): StorageSettings {
  return {
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    bucket: config.S3_BUCKET,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    corsOrigins: config.S3_CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter((origin) => origin && origin !== 'none'),
  };
}

/** Whether the deployment names an object store explicitly (then the bucket is checked at boot). */
export function storageConfigured(settings: StorageSettings): boolean {
  return Boolean(settings.endpoint || (settings.accessKeyId && settings.secretAccessKey));
}

function isNotFound(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    return error.$metadata.httpStatusCode === 404 || ['NotFound', 'NoSuchKey', 'NoSuchBucket', 'NoSuchUpload'].includes(error.name);
  }
  return false;
}

/**
 * One bucket over the S3 protocol (AWS S3, R2, GCS interop, s3rver in tests). Every write asks the
 * store for server-side encryption (`AES256`); presigned PUTs sign the SSE header, so an upload that
 * leaves it out is refused by the store. The bucket is created on first use if it does not exist.
 */
export class ObjectStorage {
  readonly client: S3Client;
  readonly bucket: string;
  private bucketReady: Promise<void> | null = null;

  constructor(
    private readonly settings: StorageSettings,
    private readonly logger: Logger,
  ) {
    this.bucket = settings.bucket;
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      credentials: settings.accessKeyId && settings.secretAccessKey ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } : undefined,
      // Checksums in the new default mode add trailers that older S3-compatible stores reject.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  get configured(): boolean {
    return storageConfigured(this.settings);
  }

  /** Creates the bucket when missing and asks for default encryption where the store supports it. Memoized; a failure is retried on the next call. */
  ensureBucket(): Promise<void> {
    this.bucketReady ??= this.createBucketIfMissing().catch((error: unknown) => {
      this.bucketReady = null;
      throw new StorageUnavailableError('bucket check', error);
    });
    return this.bucketReady;
  }

  private async createBucketIfMissing(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
      this.logger.info({ bucket: this.bucket }, 'object storage bucket created');
      if (this.settings.corsOrigins.length > 0) {
        // Browsers PUT to presigned URLs directly; multipart needs the ETag header readable.
        await this.client.send(
          new PutBucketCorsCommand({
            Bucket: this.bucket,
            CORSConfiguration: {
              CORSRules: [{ AllowedOrigins: this.settings.corsOrigins, AllowedMethods: ['GET', 'PUT', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3600 }],
            },
          }),
        );
      }
    } catch (error) {
      if (!(error instanceof S3ServiceException && ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(error.name))) throw error;
    }
    try {
      await this.client.send(
        new PutBucketEncryptionCommand({
          Bucket: this.bucket,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: SERVER_SIDE_ENCRYPTION } }] },
        }),
      );
    } catch (error) {
      // s3rver and some S3-compatible stores do not implement bucket encryption settings; every write still sends the SSE header.
      this.logger.info({ bucket: this.bucket, reason: error instanceof Error ? error.name : 'unknown' }, 'bucket default encryption not set by the store');
    }
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    await this.ensureBucket();
    try {
      return await run();
    } catch (error) {
      if (error instanceof MultipartRejectedError) throw error;
      throw new StorageUnavailableError(operation, error);
    }
  }

  /**
   * A URL the client PUTs the whole object to, with the SSE header it must send (it is signed, so
   * S3 refuses the PUT without it). `signEncryptionHeader: false` is for clients that can only send
   * a bare PUT (e.g. a URL handed to a node): the object is then encrypted by the bucket's default
   * encryption, which `ensureBucket` sets where the store supports it (AWS S3 encrypts by default).
   */
  async presignPut(key: string, expiresInSeconds: number, now: Date, options: { signEncryptionHeader?: boolean } = {}): Promise<PresignedRequest> {
    await this.ensureBucket();
    const signed = options.signEncryptionHeader ?? true;
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ServerSideEncryption: signed ? SERVER_SIDE_ENCRYPTION : undefined });
    const url = await getSignedUrl(this.client, command, { expiresIn: expiresInSeconds });
    return { method: 'PUT', url, headers: signed ? { [SSE_HEADER]: SERVER_SIDE_ENCRYPTION } : {}, expiresAt: new Date(now.getTime() + expiresInSeconds * 1000) };
  }

  /** A URL to GET the object; `fileName` sets the download's Content-Disposition. */
  async presignGet(key: string, expiresInSeconds: number, now: Date, fileName?: string): Promise<PresignedRequest> {
    await this.ensureBucket();
    const disposition = fileName ? `attachment; filename="${fileName.replace(/["\\\r\n]/g, '_')}"` : undefined;
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: disposition }), { expiresIn: expiresInSeconds });
    return { method: 'GET', url, headers: {}, expiresAt: new Date(now.getTime() + expiresInSeconds * 1000) };
  }

  /** Writes a whole object (small objects the API produces itself), encrypted at rest. */
  async put(key: string, body: Buffer | Uint8Array | string | Readable, contentType = 'application/octet-stream'): Promise<void> {
    await this.call('put', () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, ServerSideEncryption: SERVER_SIDE_ENCRYPTION })));
  }

  /** Starts a multipart upload (encrypted at rest: SSE is set here, not on the parts); returns its upload id. */
  async createMultipartUpload(key: string): Promise<string> {
    const result = await this.call('multipart create', () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ServerSideEncryption: SERVER_SIDE_ENCRYPTION })),
    );
    if (!result.UploadId) throw new StorageUnavailableError('multipart create', new Error('no upload id returned'));
    return result.UploadId;
  }

  /** A URL the client PUTs one part to; the response's ETag header is what completion needs. */
  async presignUploadPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number, now: Date): Promise<PresignedRequest> {
    await this.ensureBucket();
    const url = await getSignedUrl(this.client, new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }), { expiresIn: expiresInSeconds });
    return { method: 'PUT', url, headers: {}, expiresAt: new Date(now.getTime() + expiresInSeconds * 1000) };
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<void> {
    await this.call('multipart complete', async () => {
      try {
        await this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: [...parts].sort((a, b) => a.partNumber - b.partNumber).map((part) => ({ PartNumber: part.partNumber, ETag: normalizeEtag(part.etag) })) },
          }),
        );
      } catch (error) {
        if (error instanceof S3ServiceException && (error.$metadata.httpStatusCode ?? 500) < 500) throw new MultipartRejectedError(error.name, error.message);
        throw error;
      }
    });
  }

  /** Abandons a multipart upload and frees its parts; an unknown upload is not an error. */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    await this.call('multipart abort', async () => {
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
      } catch (error) {
        if (isNotFound(error)) return;
        // s3rver answers 405: it cannot abort. Its parts stay behind (a lifecycle rule cleans them on real stores).
        if (error instanceof S3ServiceException && [405, 501].includes(error.$metadata.httpStatusCode ?? 0)) {
          this.logger.warn({ key, status: error.$metadata.httpStatusCode }, 'object store cannot abort multipart uploads; parts left for its lifecycle rules');
          return;
        }
        throw error;
      }
    });
  }

  /** Size, ETag and encryption of an object; null when there is none. */
  async head(key: string): Promise<ObjectHead | null> {
    return this.call('head', async () => {
      try {
        const result = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        return { sizeBytes: Number(result.ContentLength ?? 0), etag: result.ETag ?? null, serverSideEncryption: result.ServerSideEncryption ?? null };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    });
  }

  /** The object's bytes as a stream (never buffered whole); `range` is inclusive, as in HTTP. */
  async getStream(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const result = await this.call('get', () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined })),
    );
    if (!result.Body) throw new StorageUnavailableError('get', new Error('empty body'));
    return result.Body as Readable;
  }

  /** Deletes an object; deleting a missing one succeeds (S3 semantics). */
  async delete(key: string): Promise<void> {
    await this.call('delete', async () => {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
  }

  close(): void {
    this.client.destroy();
  }
}

function normalizeEtag(etag: string): string {
  const bare = etag.trim().replace(/^"|"$/g, '');
  return `"${bare}"`;
}
