import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { CHECKPOINT_SLOTS_PER_ATTEMPT, parseUploadSlot, uploadSlotName, type UploadSlot } from '@anneal/providers';
import type { PresignedBucket } from './s3-presigner.js';

export interface StorageAttempt {
  attemptId: string;
  attemptToken: string;
  orgId: string;
  jobId: string;
  datasetKey: string;
  /** The checkpoint an earlier attempt left (what the API's job events would say). */
  resume?: { key: string; step: number; sizeBytes: number | null };
}

export interface StorageRequest {
  method: string;
  path: string;
  status: number;
  /** The Authorization header as received (to prove the token is sent, and only to the API). */
  authorization: string | undefined;
}

/**
 * A stand-in for the API's attempt storage endpoints (apps/api attempt-access), for agent tests
 * that cannot boot the API (apps never import apps): the same routes, bearer-token check and 401
 * codes, the same slot names and keys, SSE-signed PUTs, real presigned URLs of an s3rver bucket.
 * test/e2e/attempt-storage.e2e-spec.ts runs the agent against the real API.
 */
export class AttemptStorageServer {
  readonly requests: StorageRequest[] = [];
  private readonly attempts = new Map<string, StorageAttempt & { ended: boolean }>();
  private failures: number[] = [];
  /** URLs minted from now on are already expired (the store answers 403), this many times. */
  private expiredToMint = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly bucket: PresignedBucket,
    private readonly ttlSeconds: number,
  ) {}

  static async start(bucket: PresignedBucket, options: { ttlSeconds?: number } = {}): Promise<AttemptStorageServer> {
    let handler: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
    const server = createServer((request, response) => handler(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const api = new AttemptStorageServer(server, `http://127.0.0.1:${port}`, bucket, options.ttlSeconds ?? 900);
    handler = (request, response) => void api.handle(request, response);
    return api;
  }

  register(attempt: StorageAttempt): void {
    this.attempts.set(attempt.attemptId, { ...attempt, ended: false });
  }

  /** The attempt ends: its token is refused from now on (401 attempt_token_revoked). */
  end(attemptId: string): void {
    const attempt = this.attempts.get(attemptId);
    if (attempt) attempt.ended = true;
  }

  /** The next requests answer these statuses (e.g. [503, 503]) before working again. */
  failNext(...statuses: number[]): void {
    this.failures.push(...statuses);
  }

  /** The next `count` URLs handed out are already expired. */
  mintExpired(count: number): void {
    this.expiredToMint += count;
  }

  /** Where the API puts a slot's object (apps/api attempt-object-keys.ts). */
  static keyFor(attempt: Pick<StorageAttempt, 'orgId' | 'jobId' | 'attemptId'>, slot: UploadSlot): string {
    const job = `jobs/${attempt.orgId}/${attempt.jobId}`;
    if (slot.kind === 'artifact') return `${job}/artifacts/output.tar`;
    if (slot.kind === 'logs') return `${job}/${attempt.attemptId}/logs.txt`;
    return `${job}/${attempt.attemptId}/checkpoints/${uploadSlotName(slot)}.bin`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url ?? '';
    const send = (status: number, body: unknown) => {
      this.requests.push({ method: request.method ?? '', path, status, authorization: request.headers.authorization });
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    const match = /^\/v1\/attempts\/([^/]+)\/(downloads\/dataset|downloads\/resume-checkpoint|uploads\/([^/]+))$/.exec(path);
    if (request.method !== 'POST' || !match) return send(404, { code: 'route_not_found', message: 'No such route.' });
    const failure = this.failures.shift();
    if (failure) return send(failure, { code: failure === 429 ? 'rate_limited' : 'service_unavailable', message: 'Try again.' });
    const attempt = this.attempts.get(decodeURIComponent(match[1]!));
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!attempt || token !== attempt.attemptToken) return send(401, { code: 'attempt_token_invalid', message: 'This attempt token is not valid for this attempt.' });
    if (attempt.ended) return send(401, { code: 'attempt_token_revoked', message: 'This attempt has ended, so its token no longer works.' });
    const expiresIn = this.expiredToMint > 0 ? 60 : this.ttlSeconds;
    const signingDate = this.expiredToMint > 0 ? new Date(Date.now() - 3_600_000) : new Date();
    if (this.expiredToMint > 0) this.expiredToMint -= 1;
    const expiresAt = new Date(signingDate.getTime() + expiresIn * 1000).toISOString();
    const what = match[2]!;
    if (what === 'downloads/dataset') {
      const getUrl = await getSignedUrl(this.bucket.client, new GetObjectCommand({ Bucket: this.bucket.bucket, Key: attempt.datasetKey }), { expiresIn, signingDate });
      return send(200, { getUrl, expiresAt });
    }
    if (what === 'downloads/resume-checkpoint') {
      if (!attempt.resume) return send(404, { code: 'no_resume_checkpoint', message: 'This job has no checkpoint from an earlier attempt to resume from.' });
      const getUrl = await getSignedUrl(this.bucket.client, new GetObjectCommand({ Bucket: this.bucket.bucket, Key: attempt.resume.key }), { expiresIn, signingDate });
      return send(200, { getUrl, step: attempt.resume.step, sizeBytes: attempt.resume.sizeBytes, expiresAt });
    }
    const slot = parseUploadSlot(decodeURIComponent(match[3]!));
    if (!slot) return send(400, { code: 'invalid_upload_slot', message: `Use artifact, logs, or checkpoint-001 to checkpoint-00${CHECKPOINT_SLOTS_PER_ATTEMPT}.` });
    const key = AttemptStorageServer.keyFor(attempt, slot);
    const command = new PutObjectCommand({ Bucket: this.bucket.bucket, Key: key, ServerSideEncryption: 'AES256' });
    const putUrl = await getSignedUrl(this.bucket.client, command, { expiresIn, signingDate, signableHeaders: new Set(['x-amz-server-side-encryption']) });
    return send(200, { key, putUrl, headers: { 'x-amz-server-side-encryption': 'AES256' }, expiresAt });
  }
}
