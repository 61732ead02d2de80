import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_SIDE_ENCRYPTION, SSE_HEADER, ObjectStorage } from '../../core/storage/object-storage.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';
import { ModerationService } from '../moderation/moderation.service.js';
import { DATASET_RETENTION_LOCK_KEY, DatasetsScheduler } from './datasets.scheduler.js';
import { DatasetsService } from './datasets.service.js';
import { parquetFile, tarArchive, zipArchive } from './testing/archive-fixtures.js';

const THRESHOLD = 100_000;
const PART_SIZE = 40_000;
const DAY_MS = 86_400_000;

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

type User = Awaited<ReturnType<typeof signUp>>;

describe('datasets (real Postgres, real S3 protocol)', () => {
  let t: TestApp;
  let storage: ObjectStorage;
  let alice: User;
  let mallory: User;
  const clock = new TestClock();

  beforeAll(async () => {
    t = await startTestApp({
      s3: true,
      clock,
      overrides: { DATASET_MULTIPART_THRESHOLD_BYTES: String(THRESHOLD), DATASET_PART_SIZE_BYTES: String(PART_SIZE), MODERATION_DISALLOWED_BASE_MODELS: 'forbidden-org/*' },
    });
    storage = t.app.get(ObjectStorage);
    alice = await signUp(t.http);
    mallory = await signUp(t.http);
  });

  afterAll(async () => {
    await t?.close();
  });

  async function create(user: User, bytes: Buffer, fields: Record<string, unknown> = {}) {
    const response = await t.http.post('/v1/datasets', { name: 'support chats', format: 'jsonl', sizeBytes: bytes.length, sha256: sha256(bytes), license: 'own-data', ...fields }, user.accessToken);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { dataset: any; upload: any };
  }

  async function putSingle(upload: any, bytes: Buffer) {
    const response = await fetch(upload.url, { method: upload.method, headers: upload.headers, body: bytes });
    expect(response.status).toBe(200);
  }

  async function putParts(upload: any, bytes: Buffer) {
    const parts: { partNumber: number; etag: string }[] = [];
    let offset = 0;
    for (const part of upload.parts) {
      const response = await fetch(part.url, { method: 'PUT', headers: upload.headers, body: bytes.subarray(offset, offset + part.sizeBytes) });
      expect(response.status).toBe(200);
      parts.push({ partNumber: part.partNumber, etag: response.headers.get('etag') ?? '' });
      offset += part.sizeBytes;
    }
    return parts;
  }

  /** Create, upload (single or multipart) and complete; returns the completion response. */
  async function upload(user: User, bytes: Buffer, fields: Record<string, unknown> = {}) {
    const created = await create(user, bytes, fields);
    const parts = created.upload.kind === 'multipart' ? await putParts(created.upload, bytes) : (await putSingle(created.upload, bytes), undefined);
    const completed = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, parts ? { parts } : {}, user.accessToken);
    return { created, completed, id: created.dataset.id as string };
  }

  async function auditActions(targetId: string): Promise<string[]> {
    const rows: { action: string }[] = await t.dataSource.query('SELECT action FROM audit_log WHERE target_id = $1 ORDER BY occurred_at, id', [targetId]);
    return rows.map((row) => row.action);
  }

  const jsonl = Buffer.from(['{"prompt":"What is 2+2?","completion":"4"}', '{"prompt":"Capital of France?","completion":"Paris"}', '{"text":"a free-form sample"}'].join('\n') + '\n');

  it('single PUT: create → presigned PUT (with the signed SSE header) → complete → ready, counted, moderated, audited', async () => {
    const created = await create(alice, jsonl, { ttlDays: 30 });
    expect(created.dataset).toMatchObject({ status: 'uploading', uploadKind: 'single', sizeBytes: jsonl.length, encryption: SERVER_SIDE_ENCRYPTION, ttlDays: 30, deleteAfterTraining: false, moderation: null });
    expect(new Date(created.dataset.expiresAt).getTime() - new Date(created.dataset.createdAt).getTime()).toBe(30 * DAY_MS);
    expect(created.upload).toMatchObject({ kind: 'single', method: 'PUT', headers: { [SSE_HEADER]: SERVER_SIDE_ENCRYPTION } });
    expect(new URL(created.upload.url).searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain(SSE_HEADER);

    await putSingle(created.upload, jsonl);
    const completed = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, {}, alice.accessToken);
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    const textChars = 'What is 2+2?4Capital of France?Parisa free-form sample'.length;
    expect(completed.body).toMatchObject({ status: 'ready', sampleCount: 3, tokenCountEstimate: Math.ceil(textChars / 4), moderation: { outcome: 'passed', reasons: [] } });
    expect(completed.body.tokenCountNote).toMatch(/estimate/i);

    // Completing again is harmless.
    const again = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, {}, alice.accessToken);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('ready');

    const got = await t.http.get(`/v1/datasets/${created.dataset.id}`, alice.accessToken);
    expect(got.body).toMatchObject({ id: created.dataset.id, status: 'ready', sampleCount: 3, moderation: { outcome: 'passed' } });
    const list = await t.http.get('/v1/datasets', alice.accessToken);
    expect(list.body.items.find((d: any) => d.id === created.dataset.id)).toMatchObject({ status: 'ready', moderation: { outcome: 'passed', reasons: [] } });
    expect(await auditActions(created.dataset.id)).toEqual(['dataset.created', 'dataset.completed']);
  });

  it('a file replaced through the still-valid upload URL after verification is discarded, never served', async () => {
    const created = await create(alice, jsonl, { name: 'overwritten later' });
    await putSingle(created.upload, jsonl);
    expect((await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, {}, alice.accessToken)).body.status).toBe('ready');
    await putSingle(created.upload, Buffer.from('{"text":"swapped after moderation"}\n'));
    const download = await t.http.get(`/v1/datasets/${created.dataset.id}/download`, alice.accessToken);
    expect(download.status).toBe(409);
    expect(download.body).toMatchObject({ code: 'dataset_not_ready', details: { failureCode: 'modified_after_verification' } });
    await expect(t.app.get(DatasetsService).requireTrainable(alice.orgId, created.dataset.id)).rejects.toMatchObject({ code: 'dataset_not_ready' });
    expect((await t.http.get(`/v1/datasets/${created.dataset.id}`, alice.accessToken)).body).toMatchObject({ status: 'failed', failureCode: 'modified_after_verification' });
    const key = (await t.dataSource.query('SELECT storage_key FROM datasets WHERE id = $1', [created.dataset.id]))[0].storage_key;
    expect(await storage.head(key)).toBeNull();
  });

  it('Idempotency-Key: a retry returns the same dataset with fresh URLs; another body is a conflict; concurrent retries agree', async () => {
    const body = { name: 'idempotent', format: 'jsonl', sizeBytes: jsonl.length, sha256: sha256(jsonl), license: 'mit' };
    const headers = { 'idempotency-key': 'create-dataset-0001' };
    const first = await t.http.post('/v1/datasets', body, alice.accessToken, headers);
    expect(first.status).toBe(201);
    const retry = await t.http.post('/v1/datasets', body, alice.accessToken, headers);
    expect(retry.status).toBe(200);
    expect(retry.body.dataset.id).toBe(first.body.dataset.id);
    expect(retry.body.upload.kind).toBe('single');
    const other = await t.http.post('/v1/datasets', { ...body, name: 'something else' }, alice.accessToken, headers);
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_mismatch');
    // Keys are per org: the same key elsewhere creates a new dataset.
    const frank = await signUp(t.http);
    const elsewhere = await t.http.post('/v1/datasets', body, frank.accessToken, headers);
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.dataset.id).not.toBe(first.body.dataset.id);
    const bad = await t.http.post('/v1/datasets', body, alice.accessToken, { 'idempotency-key': 'no spaces allowed' });
    expect(bad.status).toBe(400);

    await putSingle(retry.body.upload, jsonl);
    expect((await t.http.post(`/v1/datasets/${first.body.dataset.id}/complete`, {}, alice.accessToken)).status).toBe(200);
    const afterComplete = await t.http.post('/v1/datasets', body, alice.accessToken, headers);
    expect(afterComplete.status).toBe(200);
    expect(afterComplete.body).toMatchObject({ dataset: { id: first.body.dataset.id, status: 'ready' }, upload: null });

    const racing = await Promise.all([1, 2, 3].map(() => t.http.post('/v1/datasets', { ...body, name: 'raced' }, alice.accessToken, { 'idempotency-key': 'create-dataset-race' })));
    expect(new Set(racing.map((r) => r.body.dataset.id)).size).toBe(1);
    expect(racing.map((r) => r.status).sort()).toEqual([200, 200, 201]);
  });

  it('download URL returns the same bytes', async () => {
    const { id } = await upload(alice, jsonl, { name: 'download me' });
    const download = await t.http.get(`/v1/datasets/${id}/download`, alice.accessToken);
    expect(download.status).toBe(200);
    expect(download.body).toMatchObject({ method: 'GET', fileName: 'download_me.jsonl', sizeBytes: jsonl.length, sha256: sha256(jsonl) });
    const response = await fetch(download.body.url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(jsonl);
  });

  it('multipart above the threshold: parts PUT to presigned URLs, completed with ETags, verified; csv rows counted', async () => {
    const header = 'prompt,completion\n';
    const rows: string[] = [];
    for (let i = 0; Buffer.byteLength(header + rows.join('')) <= THRESHOLD + 5000; i += 1) rows.push(`"question ${i}, please","answer ${i}"\n`);
    const csv = Buffer.from(header + rows.join(''));
    const created = await create(alice, csv, { format: 'csv', name: 'qa pairs' });
    expect(created.upload.kind).toBe('multipart');
    expect(created.upload.partSizeBytes).toBe(PART_SIZE);
    expect(created.upload.partCount).toBe(Math.ceil(csv.length / PART_SIZE));
    expect(created.upload.parts.reduce((sum: number, p: any) => sum + p.sizeBytes, 0)).toBe(csv.length);

    const parts = await putParts(created.upload, csv);
    const noParts = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, {}, alice.accessToken);
    expect(noParts.status).toBe(400);
    expect(noParts.body.code).toBe('parts_required');
    const missing = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, { parts: parts.slice(1) }, alice.accessToken);
    expect(missing.status).toBe(422);
    expect(missing.body.code).toBe('parts_incomplete');

    const completed = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, { parts }, alice.accessToken);
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.body).toMatchObject({ status: 'ready', uploadKind: 'multipart', sampleCount: rows.length, sizeBytes: csv.length });
    const download = await t.http.get(`/v1/datasets/${created.dataset.id}/download`, alice.accessToken);
    expect(sha256(Buffer.from(await (await fetch(download.body.url)).arrayBuffer()))).toBe(sha256(csv));
  });

  it('zip and parquet: sample counts read from the end of the stored file (ranged reads)', async () => {
    const zip = zipArchive([
      { name: 'images/', content: Buffer.alloc(0) },
      { name: 'images/a.png', content: Buffer.alloc(3000, 1) },
      { name: 'images/b.png', content: Buffer.alloc(10, 2) },
      { name: 'images/c.png', content: Buffer.alloc(10, 3) },
    ]);
    const zipped = await upload(alice, zip, { name: 'image folder', format: 'zip', license: 'cc0-1.0' });
    expect(zipped.completed.body).toMatchObject({ status: 'ready', sampleCount: 3, tokenCountEstimate: null, moderation: { outcome: 'passed' } });
    const parquet = parquetFile(4242, ['prompt', 'completion']);
    const columnar = await upload(alice, parquet, { name: 'columnar', format: 'parquet', license: 'apache-2.0' });
    expect(columnar.completed.body).toMatchObject({ status: 'ready', sampleCount: 4242, tokenCountEstimate: null });
  });

  it('completing before anything was uploaded says so and leaves the dataset uploading', async () => {
    const created = await create(alice, jsonl);
    const response = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, {}, alice.accessToken);
    expect(response.status).toBe(422);
    expect(response.body.code).toBe('upload_missing');
    expect((await t.http.get(`/v1/datasets/${created.dataset.id}`, alice.accessToken)).body.status).toBe('uploading');
    const download = await t.http.get(`/v1/datasets/${created.dataset.id}/download`, alice.accessToken);
    expect(download.status).toBe(409);
    expect(download.body.code).toBe('dataset_not_ready');
  });

  it('checksum mismatch: 422 with both digests, object deleted, dataset failed (never ready)', async () => {
    const declared = Buffer.from('{"text":"what I said I would upload"}\n');
    const actual = Buffer.from('{"text":"what I actually uploaded!!"}\n');
    expect(actual.length).toBe(declared.length);
    const created = await create(alice, declared);
    await putSingle(created.upload, actual);
    const response = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, {}, alice.accessToken);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'checksum_mismatch', details: { expectedSha256: sha256(declared), actualSha256: sha256(actual) } });
    const key = (await t.dataSource.query('SELECT storage_key FROM datasets WHERE id = $1', [created.dataset.id]))[0].storage_key;
    expect(await storage.head(key)).toBeNull();
    expect((await t.http.get(`/v1/datasets/${created.dataset.id}`, alice.accessToken)).body).toMatchObject({ status: 'failed', failureCode: 'checksum_mismatch' });
    const retry = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, {}, alice.accessToken);
    expect(retry.status).toBe(409);
    await expect(t.app.get(DatasetsService).requireTrainable(alice.orgId, created.dataset.id)).rejects.toMatchObject({ code: 'dataset_not_ready' });
    expect(await auditActions(created.dataset.id)).toEqual(['dataset.created', 'dataset.verification_failed']);
  });

  it('size mismatch: 422 with both sizes, object deleted, dataset failed', async () => {
    const declared = Buffer.from('{"text":"short"}\n');
    const created = await create(alice, declared);
    const bigger = Buffer.concat([declared, Buffer.from('{"text":"one more line"}\n')]);
    await putSingle(created.upload, bigger);
    const response = await t.http.post(`/v1/datasets/${created.dataset.id}/complete`, {}, alice.accessToken);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'size_mismatch', details: { expectedBytes: declared.length, actualBytes: bigger.length } });
    const key = (await t.dataSource.query('SELECT storage_key FROM datasets WHERE id = $1', [created.dataset.id]))[0].storage_key;
    expect(await storage.head(key)).toBeNull();
    expect((await t.http.get(`/v1/datasets/${created.dataset.id}`, alice.accessToken)).body).toMatchObject({ status: 'failed', failureCode: 'size_mismatch' });
  });

  it('refuses bad input with field errors', async () => {
    const response = await t.http.post('/v1/datasets', { name: '', format: 'exe', sizeBytes: -1, sha256: 'nothex', ttlDays: 400, extra: 1 }, alice.accessToken);
    expect(response.status).toBe(400);
    const fields = (response.body.details.fields as { field: string }[]).map((f) => f.field);
    expect(new Set(fields)).toEqual(new Set(['name', 'format', 'sizeBytes', 'sha256', 'ttlDays', 'extra']));
  });

  it('delete removes the object (HEAD → 404) and marks the dataset deleted; deleting again is harmless', async () => {
    const { id } = await upload(alice, jsonl, { name: 'to delete' });
    const key = (await t.dataSource.query('SELECT storage_key FROM datasets WHERE id = $1', [id]))[0].storage_key;
    expect(await storage.head(key)).not.toBeNull();
    const deleted = await t.http.request('DELETE', `/v1/datasets/${id}`, { token: alice.accessToken });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ status: 'deleted', deletionReason: 'user' });
    expect(await storage.head(key)).toBeNull();
    const again = await t.http.request('DELETE', `/v1/datasets/${id}`, { token: alice.accessToken });
    expect(again.status).toBe(200);
    expect((await t.http.get('/v1/datasets', alice.accessToken)).body.items.map((d: any) => d.id)).not.toContain(id);
    expect((await t.http.get(`/v1/datasets/${id}/download`, alice.accessToken)).status).toBe(409);
    expect(await auditActions(id)).toEqual(['dataset.created', 'dataset.completed', 'dataset.deleted']);
  });

  it('another org gets 404 on every endpoint and nothing changes', async () => {
    const { id } = await upload(alice, jsonl, { name: 'private' });
    const pending = await create(alice, jsonl, { name: 'private pending' });
    const key = (await t.dataSource.query('SELECT storage_key FROM datasets WHERE id = $1', [id]))[0].storage_key;
    const before = await t.dataSource.query('SELECT * FROM datasets WHERE org_id = $1 ORDER BY id', [alice.orgId]);

    for (const response of [
      await t.http.get(`/v1/datasets/${id}`, mallory.accessToken),
      await t.http.get(`/v1/datasets/${id}/download`, mallory.accessToken),
      await t.http.post(`/v1/datasets/${id}/complete`, {}, mallory.accessToken),
      await t.http.post(`/v1/datasets/${pending.dataset.id}/complete`, {}, mallory.accessToken),
      await t.http.request('DELETE', `/v1/datasets/${id}`, { token: mallory.accessToken }),
      await t.http.request('DELETE', `/v1/datasets/${pending.dataset.id}`, { token: mallory.accessToken }),
    ]) {
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('not_found');
    }
    const list = await t.http.get('/v1/datasets', mallory.accessToken);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
    await expect(t.app.get(DatasetsService).requireTrainable(mallory.orgId, id)).rejects.toMatchObject({ status: 404 });

    expect(await t.dataSource.query('SELECT * FROM datasets WHERE org_id = $1 ORDER BY id', [alice.orgId])).toEqual(before);
    expect(await storage.head(key)).not.toBeNull();
    expect(await auditActions(id)).toEqual(['dataset.created', 'dataset.completed']);
  });

  it('refuses a dataset above the size limit with the figures', async () => {
    const response = await t.http.post('/v1/datasets', { name: 'huge', format: 'parquet', sizeBytes: 2 * 1024 ** 4, sha256: 'a'.repeat(64), license: 'mit' }, alice.accessToken);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'dataset_too_large', details: { sizeBytes: 2 * 1024 ** 4, maxSizeBytes: 1024 ** 4 } });
  });

  it('API keys need datasets:read to read and datasets:write to create', async () => {
    const key = await t.http.post('/v1/api-keys', { name: 'reader', scopes: ['datasets:read'] }, alice.accessToken);
    expect(key.status).toBe(201);
    expect((await t.http.get('/v1/datasets', key.body.key)).status).toBe(200);
    const refused = await t.http.post('/v1/datasets', { name: 'x', format: 'jsonl', sizeBytes: 1, sha256: 'a'.repeat(64) }, key.body.key);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('insufficient_scope');
  });

  it('lists page by page, newest first', async () => {
    const bob = await signUp(t.http);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await create(bob, jsonl, { name: `page ${i}` })).dataset.id);
    const first = await t.http.get('/v1/datasets?limit=2', bob.accessToken);
    expect(first.body.items.map((d: any) => d.id)).toEqual([ids[2], ids[1]]);
    const second = await t.http.get(`/v1/datasets?limit=2&cursor=${first.body.nextCursor}`, bob.accessToken);
    expect(second.body.items.map((d: any) => d.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
  });

  describe('moderation', () => {
    it('rejects a blocked term in the name, with the reason visible, and the dataset cannot be trained on', async () => {
      const { id, completed } = await upload(alice, jsonl, { name: 'ransomware negotiation logs' });
      expect(completed.status).toBe(200);
      expect(completed.body.status).toBe('ready');
      expect(completed.body.moderation.outcome).toBe('rejected');
      expect(completed.body.moderation.reasons).toEqual([{ code: 'blocked_term_in_name', message: expect.stringContaining('"ransomware"') }]);
      const got = await t.http.get(`/v1/datasets/${id}`, alice.accessToken);
      expect(got.body.moderation).toMatchObject({ outcome: 'rejected', reasons: [{ code: 'blocked_term_in_name' }] });
      await expect(t.app.get(DatasetsService).requireTrainable(alice.orgId, id)).rejects.toMatchObject({ status: 422, code: 'dataset_rejected', message: expect.stringContaining('ransomware') });
    });

    it('rejects a missing licence with the reason visible', async () => {
      const { id, completed } = await upload(alice, jsonl, { name: 'no licence', license: undefined });
      expect(completed.body.moderation).toMatchObject({ outcome: 'rejected', reasons: [{ code: 'license_missing' }] });
      expect(completed.body.moderation.reasons[0].message).toMatch(/licen[cs]e/i);
      expect((await t.http.get(`/v1/datasets/${id}`, alice.accessToken)).body.moderation.outcome).toBe('rejected');
    });

    it('reads file names and the sample count inside a tar of images, and rejects a blocked term among them', async () => {
      const tar = tarArchive([
        { name: 'images/cat.png', content: Buffer.alloc(1000, 1) },
        { name: 'images/keylogger_screenshot.png', content: Buffer.alloc(10, 2) },
      ]);
      const { completed } = await upload(alice, tar, { name: 'pets', format: 'tar', license: 'cc-by-4.0' });
      expect(completed.body).toMatchObject({ status: 'ready', sampleCount: 2, tokenCountEstimate: null });
      expect(completed.body.moderation).toMatchObject({ outcome: 'rejected', reasons: [{ code: 'blocked_term_in_file_name' }] });
      expect(completed.body.moderation.reasons[0].message).toContain('images/keylogger_screenshot.png');
    });

    it('job submissions: disallowed base model and a rejected dataset fail with reasons; a clean one passes; rejections are counted per org', async () => {
      const moderation = t.app.get(ModerationService);
      const carol = await signUp(t.http);
      const good = await upload(carol, jsonl, { name: 'clean' });
      const bad = await upload(carol, jsonl, { name: 'doxxing targets' });
      const passed = await moderation.moderateJobSubmission({ jobId: '0190f5c8-0000-7000-8000-000000000001', orgId: carol.orgId, baseModelId: 'meta-llama/Llama-3.1-8B', datasetId: good.id, jobName: 'ft', configuration: { lr: 1e-4 } });
      expect(passed).toMatchObject({ outcome: 'passed', reasons: [] });
      const rejected = await moderation.moderateJobSubmission({ jobId: '0190f5c8-0000-7000-8000-000000000002', orgId: carol.orgId, baseModelId: 'forbidden-org/base', datasetId: bad.id });
      expect(rejected.outcome).toBe('rejected');
      expect(rejected.reasons.map((r) => r.code)).toEqual(['base_model_disallowed', 'dataset_rejected']);
      const counts = await moderation.rejectionCountsByOrg({ minRejections: 2 });
      expect(counts.find((c) => c.orgId === carol.orgId)).toEqual({ orgId: carol.orgId, rejections: 2, total: 4 });
      expect(counts.find((c) => c.orgId === mallory.orgId)).toBeUndefined();
    });
  });

  describe('for the jobs module', () => {
    it('requireTrainable returns the facts a job needs; presignedGetUrl serves the bytes', async () => {
      const { id } = await upload(alice, jsonl, { name: 'train me', deleteAfterTraining: true });
      const datasets = t.app.get(DatasetsService);
      expect(await datasets.requireTrainable(alice.orgId, id)).toEqual({
        id,
        name: 'train me',
        format: 'jsonl',
        sizeBytes: jsonl.length,
        sha256: sha256(jsonl),
        sampleCount: 3,
        tokenCount: expect.any(Number),
        deleteAfterTraining: true,
      });
      const url = await datasets.presignedGetUrl(id, 60);
      expect(Buffer.from(await (await fetch(url)).arrayBuffer())).toEqual(jsonl);
    });

    it('deleteAfterTraining deletes only datasets whose owner asked for it', async () => {
      const datasets = t.app.get(DatasetsService);
      const keep = await upload(alice, jsonl, { name: 'keep' });
      const drop = await upload(alice, jsonl, { name: 'drop', deleteAfterTraining: true });
      expect(await datasets.deleteAfterTraining(keep.id)).toBe(false);
      expect(await datasets.deleteAfterTraining(drop.id)).toBe(true);
      expect(await datasets.deleteAfterTraining(drop.id)).toBe(false);
      const rows: { id: string; status: string; deletion_reason: string | null; storage_key: string }[] = await t.dataSource.query(
        'SELECT id, status, deletion_reason, storage_key FROM datasets WHERE id = ANY($1)',
        [[keep.id, drop.id]],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      expect(byId.get(keep.id)).toMatchObject({ status: 'ready', deletion_reason: null });
      expect(byId.get(drop.id)).toMatchObject({ status: 'deleted', deletion_reason: 'after_training' });
      expect(await storage.head(byId.get(drop.id)!.storage_key)).toBeNull();
      expect(await storage.head(byId.get(keep.id)!.storage_key)).not.toBeNull();
    });
  });

  it('account deletion: deleteAllForOrg removes every dataset of that org and no other', async () => {
    const erin = await signUp(t.http);
    const one = await upload(erin, jsonl, { name: 'erin one' });
    const two = await create(erin, jsonl, { name: 'erin pending' });
    const aliceBefore = await t.dataSource.query("SELECT count(*)::int AS n FROM datasets WHERE org_id = $1 AND status <> 'deleted'", [alice.orgId]);
    expect(await t.app.get(DatasetsService).deleteAllForOrg(erin.orgId)).toBe(2);
    const rows: { id: string; status: string; deletion_reason: string; storage_key: string }[] = await t.dataSource.query('SELECT id, status, deletion_reason, storage_key FROM datasets WHERE org_id = $1', [erin.orgId]);
    expect(rows.map((r) => [r.status, r.deletion_reason])).toEqual([['deleted', 'account_deleted'], ['deleted', 'account_deleted']]);
    expect(await storage.head(rows.find((r) => r.id === one.id)!.storage_key)).toBeNull();
    expect(rows.some((r) => r.id === two.dataset.id)).toBe(true);
    expect(await t.dataSource.query("SELECT count(*)::int AS n FROM datasets WHERE org_id = $1 AND status <> 'deleted'", [alice.orgId])).toEqual(aliceBefore);
  });

  it('expiry: the retention sweep deletes datasets whose TTL passed (objects too) and leaves the others', async () => {
    const dave = await signUp(t.http);
    const shortLived = await upload(dave, jsonl, { name: 'one day', ttlDays: 1 });
    const longLived = await upload(dave, jsonl, { name: 'thirty days', ttlDays: 30 });
    const unfinished = await create(dave, jsonl, { name: 'never completed', ttlDays: 1 });
    const abandoned = await create(dave, jsonl, { name: 'abandoned upload', ttlDays: 30 });
    const keys = new Map<string, string>(
      ((await t.dataSource.query('SELECT id, storage_key FROM datasets WHERE org_id = $1', [dave.orgId])) as { id: string; storage_key: string }[]).map((r) => [r.id, r.storage_key]),
    );
    const datasets = t.app.get(DatasetsService);
    expect(await datasets.deleteExpired(clock.now())).toMatchObject({ deleted: 0, failed: 0 });

    clock.advance(2 * DAY_MS);
    // While another replica holds the retention lock, this one does nothing.
    const other = t.dataSource.createQueryRunner();
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [DATASET_RETENTION_LOCK_KEY]);
      expect(await t.app.get(DatasetsScheduler).sweep()).toBeNull();
      expect((await t.dataSource.query('SELECT status FROM datasets WHERE id = $1', [shortLived.id]))[0].status).toBe('ready');
    } finally {
      await other.query('SELECT pg_advisory_unlock($1)', [DATASET_RETENTION_LOCK_KEY]);
      await other.release();
    }
    const result = await t.app.get(DatasetsScheduler).sweep();
    expect(result?.failed).toBe(0);
    expect(result?.deleted).toBeGreaterThanOrEqual(2);
    const logged = t.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'dataset retention: expired datasets deleted');
    expect(logged).toMatchObject({ deleted: result?.deleted, failed: 0, abandoned: result?.abandoned });

    const rows: { id: string; status: string; deletion_reason: string | null }[] = await t.dataSource.query('SELECT id, status, deletion_reason FROM datasets WHERE org_id = $1', [dave.orgId]);
    const status = new Map(rows.map((r) => [r.id, r]));
    expect(status.get(shortLived.id)).toMatchObject({ status: 'deleted', deletion_reason: 'expired' });
    expect(status.get(unfinished.dataset.id)).toMatchObject({ status: 'deleted', deletion_reason: 'expired' });
    expect(status.get(longLived.id)).toMatchObject({ status: 'ready', deletion_reason: null });
    // Never completed, upload URLs long expired: failed, not deleted (its TTL has not passed).
    expect(status.get(abandoned.dataset.id)).toMatchObject({ status: 'failed', deletion_reason: null });
    expect(result?.abandoned).toBeGreaterThanOrEqual(1);
    expect(await storage.head(keys.get(shortLived.id)!)).toBeNull();
    expect(await storage.head(keys.get(longLived.id)!)).not.toBeNull();
    expect(await auditActions(shortLived.id)).toContain('dataset.deleted');
  });
});
