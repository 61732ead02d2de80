import { createHash } from 'node:crypto';
import { startTestS3, uniquePrefix, type TestS3 } from '@anneal/test/support';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStorage, SERVER_SIDE_ENCRYPTION, SSE_HEADER } from './object-storage.js';

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

describe('ObjectStorage over the S3 protocol (s3rver)', () => {
  let s3: TestS3;
  let storage: ObjectStorage;
  /** What actually went over the wire: the command and the headers of every request the client sent. */
  const sent: { command: string; headers: Record<string, string> }[] = [];
  const now = new Date();

  beforeAll(async () => {
    s3 = await startTestS3();
    storage = new ObjectStorage(
      { endpoint: s3.endpoint, region: 'us-east-1', bucket: uniquePrefix('bkt').toLowerCase().replace(/[^a-z0-9-]/g, '-'), accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true, corsOrigins: ['http://console.test'] },
      pino({ level: 'silent' }),
    );
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        sent.push({ command: String(context.commandName), headers: { ...(request.headers ?? {}) } });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordRequests' },
    );
  });

  afterAll(async () => {
    storage?.close();
    await s3?.close();
  });

  it('creates the bucket on first use, and a second check is a no-op', async () => {
    await storage.ensureBucket();
    await storage.ensureBucket();
    expect(sent.filter((r) => r.command === 'CreateBucketCommand')).toHaveLength(1);
  });

  // s3rver does not verify V4 signatures, so it cannot show the refusal of a PUT without the header;
  // what is asserted is that the header is signed (S3 then refuses any request that lacks it).
  it('presigned PUT signs the SSE header and hands it to the client to send', async () => {
    const key = 'a/single.bin';
    const body = Buffer.from('hello, encrypted world\n');
    const put = await storage.presignPut(key, 300, now);
    expect(put.headers).toEqual({ [SSE_HEADER]: SERVER_SIDE_ENCRYPTION });
    const signedHeaders = new URL(put.url).searchParams.get('X-Amz-SignedHeaders') ?? '';
    expect(signedHeaders.split(';')).toContain(SSE_HEADER);

    expect(await storage.head(key)).toBeNull();
    const accepted = await fetch(put.url, { method: 'PUT', body, headers: put.headers });
    expect(accepted.status).toBe(200);
    expect((await storage.head(key))?.sizeBytes).toBe(body.length);
    expect(await readAll(await storage.getStream(key))).toEqual(body);
    expect(await readAll(await storage.getStream(key, { start: 7, end: 15 }))).toEqual(body.subarray(7, 16));
  });

  it('a bare-PUT URL (for clients that cannot send headers) signs no SSE header', async () => {
    const put = await storage.presignPut('a/bare.bin', 300, now, { signEncryptionHeader: false });
    expect(put.headers).toEqual({});
    expect(new URL(put.url).searchParams.get('X-Amz-SignedHeaders')?.split(';')).not.toContain(SSE_HEADER);
    expect((await fetch(put.url, { method: 'PUT', body: 'bare' })).status).toBe(200);
  });

  it('every write the API itself sends carries x-amz-server-side-encryption: AES256', async () => {
    await storage.put('a/direct.txt', 'direct write');
    const uploadId = await storage.createMultipartUpload('a/multi.bin');
    await storage.abortMultipartUpload('a/multi.bin', uploadId);
    const writes = sent.filter((r) => ['PutObjectCommand', 'CreateMultipartUploadCommand'].includes(r.command));
    expect(writes.map((r) => r.command).sort()).toEqual(['CreateMultipartUploadCommand', 'PutObjectCommand']);
    for (const write of writes) expect(write.headers[SSE_HEADER]).toBe(SERVER_SIDE_ENCRYPTION);
  });

  it('multipart: parts PUT to presigned URLs, completed with their ETags, read back whole', async () => {
    const key = 'a/multipart.bin';
    const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from('tail part')];
    const uploadId = await storage.createMultipartUpload(key);
    const etags: { partNumber: number; etag: string }[] = [];
    for (const [index, part] of parts.entries()) {
      const presigned = await storage.presignUploadPart(key, uploadId, index + 1, 300, now);
      const response = await fetch(presigned.url, { method: 'PUT', body: part });
      expect(response.status).toBe(200);
      etags.push({ partNumber: index + 1, etag: response.headers.get('etag') ?? '' });
    }
    await storage.completeMultipartUpload(key, uploadId, etags);
    const whole = Buffer.concat(parts);
    const read = await readAll(await storage.getStream(key));
    expect(createHash('sha256').update(read).digest('hex')).toBe(createHash('sha256').update(whole).digest('hex'));
  });

  it('a bucket the API creates lets the console origin PUT from a browser and read the ETag', async () => {
    const put = await storage.presignPut('a/cors.bin', 300, now);
    const preflight = await fetch(put.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://console.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': SSE_HEADER },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).not.toBeNull(); // s3rver answers preflights with "*"
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
    const other = await fetch(put.url, { method: 'OPTIONS', headers: { origin: 'http://evil.test', 'access-control-request-method': 'PUT' } });
    expect(other.status).toBe(403);
    const upload = await fetch(put.url, { method: 'PUT', body: 'x', headers: { ...put.headers, origin: 'http://console.test' } });
    expect(upload.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('etag');
  });

  it('presigned GET returns the bytes; delete removes the object and is idempotent', async () => {
    await storage.put('a/get.txt', 'download me');
    const get = await storage.presignGet('a/get.txt', 60, now, 'my "file".txt');
    const response = await fetch(get.url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('download me');
    await storage.delete('a/get.txt');
    await storage.delete('a/get.txt');
    expect(await storage.head('a/get.txt')).toBeNull();
    expect((await fetch(get.url)).status).toBe(404);
  });
});
