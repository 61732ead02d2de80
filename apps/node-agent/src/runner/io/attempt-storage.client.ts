import {
  attemptStoragePaths,
  presignedDownloadSchema,
  presignedUploadSchema,
  resumeCheckpointDownloadSchema,
  uploadSlotName,
  type Assignment,
  type PresignedDownload,
  type PresignedUpload,
  type ResumeCheckpointDownload,
  type UploadSlot,
} from '@anneal/providers';
import type { z } from 'zod';
import { Backoff, sleep } from '../../agent/backoff.js';
import { errorText, isTransientStatus } from './presigned-transfer.js';

/** Where a runner gets the presigned URLs its assignment does not carry (see attempt-storage.schema.ts). */
export interface AttemptStorageApi {
  datasetDownload(signal?: AbortSignal): Promise<PresignedDownload>;
  resumeCheckpointDownload(signal?: AbortSignal): Promise<ResumeCheckpointDownload>;
  upload(slot: UploadSlot, signal?: AbortSignal): Promise<PresignedUpload>;
}

export type AttemptStorageErrorCode =
  /** 401 attempt_token_revoked: the attempt has ended; nothing more can be transferred for it. */
  | 'attempt_ended'
  /** Any other 4xx: the API refused (wrong token, no such slot, no resume checkpoint, dataset gone). */
  | 'refused'
  /** No usable answer after every retry (network, 5xx, 429). */
  | 'unreachable'
  /** A 2xx whose body is not what the protocol says. */
  | 'invalid_response';

/** A failed call to the API for a URL. The message names what was asked, never the token or a URL's query. */
export class AttemptStorageError extends Error {
  constructor(
    readonly code: AttemptStorageErrorCode,
    message: string,
    readonly status?: number,
    /** The API's own error code when it sent one (`invalid_upload_slot`, `no_resume_checkpoint`). */
    readonly apiCode?: string,
  ) {
    super(message);
    this.name = 'AttemptStorageError';
  }
}

export interface AttemptStorageClientOptions {
  /** The API base URL from registration (`anneal-agent register --api URL`), with or without `/v1`. */
  apiUrl: string;
  attemptId: string;
  /** The assignment's attempt token: sent as a bearer token, never logged. */
  attemptToken: string;
  fetch?: typeof fetch;
  /** Tries per call when the failure is transient (network, 5xx, 408, 429). Default 6. */
  tries?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Per-request limit. Default 30 s. */
  requestTimeoutMs?: number;
}

/** Whether an attempt runs without URLs of its own for something: then it needs the API. */
export function assignmentNeedsStorageApi(assignment: Assignment): boolean {
  const { uploads } = assignment;
  return (
    !assignment.dataset.getUrl ||
    (assignment.resumeCheckpoint != null && !assignment.resumeCheckpoint.getUrl) ||
    !uploads ||
    !uploads.artifact ||
    !uploads.checkpoints ||
    uploads.logs === undefined
  );
}

/**
 * The agent's side of the attempt storage endpoints: `POST /v1/attempts/:id/…` with the attempt
 * token. Transient failures are retried with exponential backoff (a 429's Retry-After is
 * honoured up to the cap); a 401 means the attempt has ended and is never retried.
 */
export class AttemptStorageClient implements AttemptStorageApi {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly tries: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: AttemptStorageClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.fetchFn = options.fetch ?? fetch;
    this.tries = options.tries ?? 6;
    this.retryInitialMs = options.retryInitialMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 15_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  datasetDownload(signal?: AbortSignal): Promise<PresignedDownload> {
    return this.call('the dataset URL', attemptStoragePaths.dataset(this.options.attemptId), presignedDownloadSchema, signal);
  }

  resumeCheckpointDownload(signal?: AbortSignal): Promise<ResumeCheckpointDownload> {
    return this.call('the resume checkpoint URL', attemptStoragePaths.resumeCheckpoint(this.options.attemptId), resumeCheckpointDownloadSchema, signal);
  }

  upload(slot: UploadSlot, signal?: AbortSignal): Promise<PresignedUpload> {
    return this.call(`an upload URL for ${uploadSlotName(slot)}`, attemptStoragePaths.upload(this.options.attemptId, slot), presignedUploadSchema, signal);
  }

  private async call<S extends z.ZodType>(what: string, path: string, schema: S, signal?: AbortSignal): Promise<z.infer<S>> {
    const backoff = new Backoff(this.retryInitialMs, this.retryMaxMs);
    let last = '';
    for (let attempt = 1; attempt <= this.tries; attempt += 1) {
      if (signal?.aborted) break;
      let response: Response;
      try {
        const timeout = AbortSignal.timeout(this.requestTimeoutMs);
        response = await this.fetchFn(`${this.base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.options.attemptToken}`, accept: 'application/json' },
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (error) {
        last = `no answer (${errorText(error)})`;
        await sleep(backoff.next(), signal);
        continue;
      }
      const text = await response.text().catch(() => '');
      const body = parseJson(text);
      if (response.ok) {
        const parsed = schema.safeParse(body);
        if (parsed.success) return parsed.data;
        throw new AttemptStorageError('invalid_response', `the API answered ${what} with an unexpected body (${parsed.error.issues[0]?.path.join('.') || 'root'})`, response.status);
      }
      const apiCode = typeof body?.code === 'string' ? body.code.slice(0, 64) : undefined;
      const apiMessage = typeof body?.message === 'string' ? body.message.slice(0, 300) : '';
      if (response.status === 401) {
        const ended = apiCode === 'attempt_token_revoked';
        throw new AttemptStorageError(ended ? 'attempt_ended' : 'refused', `the API refused ${what}: ${ended ? 'the attempt has ended' : `the attempt token was not accepted (${apiCode ?? 'HTTP 401'})`}`, 401, apiCode);
      }
      if (!isTransientStatus(response.status)) {
        throw new AttemptStorageError('refused', `the API refused ${what}: HTTP ${response.status}${apiCode ? ` ${apiCode}` : ''}${apiMessage ? `: ${apiMessage}` : ''}`, response.status, apiCode);
      }
      last = `HTTP ${response.status}${apiCode ? ` ${apiCode}` : ''}`;
      const retryAfterMs = Number(response.headers.get('retry-after')) * 1000;
      const delayMs = backoff.next();
      await sleep(Number.isFinite(retryAfterMs) && retryAfterMs > delayMs ? Math.min(retryAfterMs, this.retryMaxMs) : delayMs, signal);
    }
    throw new AttemptStorageError('unreachable', signal?.aborted ? `asking the API for ${what} was stopped` : `could not get ${what} from the API after ${this.tries} tries (last: ${last})`);
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
