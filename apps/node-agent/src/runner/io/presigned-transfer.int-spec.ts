import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PresignedBucket } from '../../testing/s3-presigner.js';
import { downloadToFile, TransferError, uploadFile } from './presigned-transfer.js';

let bucket: PresignedBucket;
const dir = mkdtempSync(join(tmpdir(), 'anneal-transfer-'));
const body = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
const sha256 = createHash('sha256').update(body).digest('hex');

beforeAll(async () => {
  bucket = await PresignedBucket.start();
  await bucket.put('objects/blob', body);
});
afterAll(async () => {
  await bucket?.close();
  rmSync(dir, { recursive: true, force: true });
});

const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(TransferError);
  return error as TransferError;
};

describe('presigned transfers against s3rver', () => {
  it('streams a download to disk and checks size and SHA-256', async () => {
    const path = join(dir, 'ok');
    expect(await downloadToFile(await bucket.getUrl('objects/blob'), path, { expectedSizeBytes: body.length, sha256 })).toEqual({ sizeBytes: body.length, sha256 });
    expect(new Uint8Array(readFileSync(path))).toEqual(body);
  });

  it('refuses a wrong size, a wrong hash and a missing object, without printing the URL', async () => {
    const url = await bucket.getUrl('objects/blob');
    expect((await failure(downloadToFile(url, join(dir, 'small'), { expectedSizeBytes: body.length - 1 }))).code).toBe('size_mismatch');
    expect((await failure(downloadToFile(url, join(dir, 'big'), { expectedSizeBytes: body.length + 1 }))).code).toBe('size_mismatch');
    expect((await failure(downloadToFile(url, join(dir, 'hash'), { sha256: '0'.repeat(64) }))).code).toBe('checksum_mismatch');
    const missing = await failure(downloadToFile(await bucket.getUrl('objects/nope'), join(dir, 'missing'), { what: 'dataset' }));
    expect(missing.code).toBe('download_failed');
    expect(missing.message).toBe('could not download the dataset: HTTP 404');
  });

  it('uploads with an exact Content-Length and reports a refused upload with the S3 error code only', async () => {
    const path = join(dir, 'upload');
    writeFileSync(path, body);
    const slot = await bucket.putSlot('objects/uploaded');
    expect(await uploadFile(slot.putUrl, path)).toBe(body.length);
    expect(await bucket.fetchBytes('objects/uploaded')).toEqual(body);
    // a slot whose signature covers a header (server-side encryption, as the API mints them);
    // s3rver does not enforce signed headers, so uploadHeaders' spec proves they are sent as given
    const encryptedUrl = await getSignedUrl(bucket.client, new PutObjectCommand({ Bucket: bucket.bucket, Key: 'objects/encrypted', ServerSideEncryption: 'AES256' }), {
      expiresIn: 60,
      signableHeaders: new Set(['x-amz-server-side-encryption']),
    });
    expect(encryptedUrl).toMatch(/X-Amz-SignedHeaders=[^&]*x-amz-server-side-encryption/);
    expect(await uploadFile(encryptedUrl, path, { headers: { 'x-amz-server-side-encryption': 'AES256' } })).toBe(body.length);
    expect(await bucket.fetchBytes('objects/encrypted')).toEqual(body);
    const noBucket = await getSignedUrl(bucket.client, new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'x' }), { expiresIn: 60 });
    const refused = await failure(uploadFile(noBucket, path, { what: 'checkpoint' }));
    expect(refused.code).toBe('upload_failed');
    expect(refused.message).toBe('the checkpoint upload was refused: HTTP 404 NoSuchBucket');
  });
});
