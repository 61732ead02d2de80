import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Assignment } from '@anneal/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAssignment } from '../../testing/agent-fixtures.js';
import { AttemptStorageServer } from '../../testing/attempt-storage-server.js';
import { runnerContext } from '../../testing/runner-context.js';
import { PresignedBucket } from '../../testing/s3-presigner.js';
import { AttemptStorageClient, AttemptStorageError } from './attempt-storage.client.js';
import { AttemptWorkspace } from './attempt-workspace.js';
import { TransferError } from './presigned-transfer.js';

const FAST = { tries: 5, initialMs: 1, maxMs: 5 };
const dataset = Buffer.from('the dataset bytes\n'.repeat(2000));
const datasetSha = createHash('sha256').update(dataset).digest('hex');
const ids = { orgId: 'org-1', jobId: 'job-1' };
let bucket: PresignedBucket;
let api: AttemptStorageServer;
let counter = 0;

beforeAll(async () => {
  bucket = await PresignedBucket.start();
  await bucket.put('datasets/d1', dataset);
  await bucket.put('jobs/org-1/job-1/att-prev/checkpoints/checkpoint-003.bin', 'weights at step 7');
  api = await AttemptStorageServer.start(bucket);
});

afterAll(async () => {
  await api?.close();
  await bucket?.close();
});

/** A fresh attempt the stand-in API knows, its assignment (with or without URLs), and a workspace for it. */
async function attempt(options: { urls?: boolean; resume?: boolean; withApi?: boolean; edit?: (assignment: Assignment) => Promise<Assignment> | Assignment } = {}) {
  counter += 1;
  const attemptId = `att-${counter}`;
  const attemptToken = `att_${'t'.repeat(30)}${counter}`;
  api.register({ attemptId, attemptToken, ...ids, datasetKey: 'datasets/d1', resume: { key: 'jobs/org-1/job-1/att-prev/checkpoints/checkpoint-003.bin', step: 7, sizeBytes: 17 } });
  const base = buildAssignment('n1', attemptId, { urls: options.urls ?? false });
  let assignment: Assignment = {
    ...base,
    attempt: { ...base.attempt, jobId: ids.jobId },
    attemptToken,
    dataset: { ...base.dataset, sizeBytes: dataset.length, sha256: datasetSha },
    ...(options.resume ? { resumeCheckpoint: { step: 7, sizeBytes: null } } : {}),
  };
  if (options.edit) assignment = await options.edit(assignment);
  const storage = options.withApi === false ? undefined : new AttemptStorageClient({ apiUrl: api.url, attemptId, attemptToken, retryInitialMs: 1, retryMaxMs: 5 });
  const { ctx, events } = runnerContext(assignment, { storage });
  const ws = new AttemptWorkspace(ctx, FAST);
  await ws.prepare();
  const requests = () => api.requests.filter((request) => request.path.startsWith(`/v1/attempts/${attemptId}/`));
  const key = (slot: Parameters<typeof AttemptStorageServer.keyFor>[1]) => AttemptStorageServer.keyFor({ ...ids, attemptId }, slot);
  return { attemptId, attemptToken, assignment, ws, events, ctx, requests, key };
}

const file = (ws: AttemptWorkspace, name: string, content: string) => {
  const path = join(ws.checkpointDir, name);
  writeFileSync(path, content);
  return path;
};
const text = async (key: string) => new TextDecoder().decode((await bucket.fetchBytes(key)) ?? new Uint8Array());
const expiredGet = (key: string) => getSignedUrl(bucket.client, new GetObjectCommand({ Bucket: bucket.bucket, Key: key }), { expiresIn: 60, signingDate: new Date(Date.now() - 3_600_000) });
const expiredPut = (key: string) => getSignedUrl(bucket.client, new PutObjectCommand({ Bucket: bucket.bucket, Key: key }), { expiresIn: 60, signingDate: new Date(Date.now() - 3_600_000) });

describe('attempt transfers with URLs from the API (stand-in API on real presigned s3rver URLs)', () => {
  it('an assignment without URLs: each URL is asked for right before its transfer, with the token, at the keys the API decides', async () => {
    const run = await attempt({ resume: true });
    const paths = () => run.requests().map((request) => request.path.split('/').slice(4).join('/'));

    expect(await run.ws.downloadDataset()).toBe(dataset.length);
    expect(readFileSync(run.ws.datasetPath)).toEqual(dataset);
    expect(paths()).toEqual(['downloads/dataset']);
    expect(await run.ws.downloadResumeCheckpoint()).toBe(7);
    expect(readFileSync(run.ws.resumePath, 'utf8')).toBe('weights at step 7');
    expect(paths()).toEqual(['downloads/dataset', 'downloads/resume-checkpoint']);

    expect(await run.ws.uploadCheckpoint(file(run.ws, 'c1', 'weights at step 10'), 10, 'interval')).toBe(run.key({ kind: 'checkpoint', number: 1 }));
    expect(paths().at(-1)).toBe('uploads/checkpoint-001');
    expect(await text(run.key({ kind: 'checkpoint', number: 1 }))).toBe('weights at step 10');
    writeFileSync(join(run.ws.outputDir, 'model.bin'), 'the model');
    expect(await run.ws.uploadOutputs()).toEqual({ key: 'jobs/org-1/job-1/artifacts/output.tar', files: ['model.bin'] });
    expect(paths().at(-1)).toBe('uploads/artifact');
    expect(await run.ws.finishLogs()).toBe(`jobs/org-1/job-1/${run.attemptId}/logs.txt`);
    expect(await text(`jobs/org-1/job-1/${run.attemptId}/logs.txt`)).toMatch(/checkpoint uploaded: step 10/);

    expect(run.events.filter((event) => event.type === 'checkpoint')).toEqual([{ type: 'checkpoint', step: 10, key: run.key({ kind: 'checkpoint', number: 1 }), sizeBytes: 18, reason: 'interval' }]);
    expect(run.ws.uploadedKeys).toEqual([run.key({ kind: 'checkpoint', number: 1 }), 'jobs/org-1/job-1/artifacts/output.tar', `jobs/org-1/job-1/${run.attemptId}/logs.txt`]);
    expect(run.requests().every((request) => request.authorization === `Bearer ${run.attemptToken}` && request.status === 200)).toBe(true);
    // Presigned URLs and the token are secrets: none reaches the attempt's logs or events.
    const published = JSON.stringify(run.events) + run.ws.logs.archiveText();
    for (const secret of ['X-Amz-Signature', 'X-Amz-Credential', run.attemptToken, api.url]) expect(published).not.toContain(secret);
  });

  it('has the API\'s 8 checkpoint slots, keeps the last one for the final checkpoint, and asks for no 9th', async () => {
    const run = await attempt();
    const keys: Array<string | null> = [];
    for (let step = 1; step <= 8; step += 1) keys.push(await run.ws.uploadCheckpoint(file(run.ws, `c${step}`, `step ${step}`), step, 'interval'));
    expect(keys.filter(Boolean)).toHaveLength(7);
    expect(keys[7]).toBeNull();
    expect(run.ws.canCheckpointOnInterval()).toBe(false);
    expect(await run.ws.uploadCheckpoint(file(run.ws, 'final', 'final'), 9, 'completed')).toBe(run.key({ kind: 'checkpoint', number: 8 }));
    expect(await run.ws.uploadCheckpoint(file(run.ws, 'more', 'more'), 10, 'canceled')).toBeNull();
    expect(run.requests().map((request) => request.path.split('/').at(-1))).toEqual(['001', '002', '003', '004', '005', '006', '007', '008'].map((n) => `checkpoint-${n}`));
    expect(run.ws.logs.archiveText()).toMatch(/no checkpoint upload slot left/);
  });

  it('an assignment whose URLs have expired: the store refuses them (403), the agent renews each from the API', async () => {
    const run = await attempt({
      urls: true,
      edit: async (assignment) => ({
        ...assignment,
        dataset: { ...assignment.dataset, getUrl: await expiredGet('datasets/d1') },
        uploads: {
          artifact: { key: 'given/artifact.tar', putUrl: await expiredPut('given/artifact.tar') },
          checkpoints: [{ key: 'given/checkpoint-1', putUrl: await expiredPut('given/checkpoint-1') }, { key: 'given/checkpoint-2', putUrl: await expiredPut('given/checkpoint-2') }],
          logs: null,
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
        },
      }),
    });
    expect(await run.ws.downloadDataset()).toBe(dataset.length);
    // The assignment's slots count (2), the renewed URL writes where the API says.
    expect(run.ws.canCheckpointOnInterval()).toBe(true);
    const key = await run.ws.uploadCheckpoint(file(run.ws, 'c1', 'renewed'), 3, 'interval');
    expect(key).toBe(run.key({ kind: 'checkpoint', number: 1 }));
    expect(await text(key!)).toBe('renewed');
    expect(run.ws.canCheckpointOnInterval()).toBe(false);
    expect(await run.ws.finishLogs()).toBeNull();
    expect(run.requests().map((request) => request.path.split('/').slice(4).join('/'))).toEqual(['downloads/dataset', 'uploads/checkpoint-001']);
    expect(run.ws.logs.archiveText()).toMatch(/the store refused the assignment's URL for the dataset \(could not download the dataset: HTTP 403\); asking the API for a fresh one/);
  });

  it('uses the assignment\'s URLs as they are while they work, and asks the API nothing', async () => {
    const run = await attempt({
      urls: true,
      edit: async (assignment) => ({
        ...assignment,
        dataset: { ...assignment.dataset, getUrl: await bucket.getUrl('datasets/d1') },
        uploads: { artifact: await bucket.putSlot('given/output.tar'), checkpoints: [await bucket.putSlot('given/c1')], logs: await bucket.putSlot('given/logs.txt') },
      }),
    });
    await run.ws.downloadDataset();
    expect(await run.ws.uploadCheckpoint(file(run.ws, 'c1', 'given slot'), 3, 'completed')).toBe('given/c1');
    expect(await run.ws.finishLogs()).toBe('given/logs.txt');
    expect(await text('given/c1')).toBe('given slot');
    expect(run.requests()).toEqual([]);
  });

  it('retries an API that answers 503 and 429, and a fresh URL the store refuses, with backoff', async () => {
    const run = await attempt();
    api.failNext(503, 429);
    expect(await run.ws.downloadDataset()).toBe(dataset.length);
    api.mintExpired(1);
    expect(await run.ws.uploadCheckpoint(file(run.ws, 'c1', 'after a refused URL'), 1, 'completed')).toBe(run.key({ kind: 'checkpoint', number: 1 }));
    expect(await text(run.key({ kind: 'checkpoint', number: 1 }))).toBe('after a refused URL');
    expect(run.requests().map((request) => request.status)).toEqual([503, 429, 200, 200, 200]);
  });

  it('stops at once when the attempt has ended (401 attempt_token_revoked): no retry, nothing uploaded', async () => {
    const run = await attempt();
    api.end(run.attemptId);
    const error = await run.ws.uploadCheckpoint(file(run.ws, 'c1', 'too late'), 1, 'canceled').then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(AttemptStorageError);
    expect((error as AttemptStorageError).code).toBe('attempt_ended');
    expect(run.requests().map((request) => request.status)).toEqual([401]);
    expect(await bucket.fetchBytes(run.key({ kind: 'checkpoint', number: 1 }))).toBeNull();
    expect(run.events).toEqual([]);
  });

  it('refuses a resume checkpoint from another step than the assignment announced', async () => {
    const run = await attempt({ edit: (assignment) => ({ ...assignment, resumeCheckpoint: { step: 8, sizeBytes: null } }) });
    const error = await run.ws.downloadResumeCheckpoint().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(TransferError);
    expect((error as TransferError).message).toBe("the API's resume checkpoint is from step 7, the assignment's from step 8");
    expect(run.requests()).toHaveLength(1);
  });

  it('without an API, an assignment without URLs cannot transfer anything (and says why)', async () => {
    const run = await attempt({ withApi: false });
    await expect(run.ws.downloadDataset()).rejects.toThrow('the assignment has no URL for the dataset and this agent knows no API to ask for one');
    await expect(run.ws.uploadCheckpoint(file(run.ws, 'c1', 'x'), 1, 'completed')).rejects.toThrow('the assignment has no URL for the checkpoint and this agent knows no API to ask for one');
  });
});

describe('attempt transfers through a store that fails now and then', () => {
  let store: Server;
  let storeUrl: string;
  const stored = new Map<string, Buffer>();
  let plan: Array<'503' | 'cut'> = [];
  let served = 0;

  beforeAll(async () => {
    store = createServer((request, response) => {
      served += 1;
      const next = plan.shift();
      if (next === '503') {
        request.resume();
        response.writeHead(503).end('<Error><Code>SlowDown</Code></Error>');
        return;
      }
      if (request.method === 'PUT') {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          stored.set(request.url!.split('?')[0]!, Buffer.concat(chunks));
          response.writeHead(200).end();
        });
        return;
      }
      response.writeHead(200, { 'content-length': String(dataset.length) });
      if (next === 'cut') {
        // Half the body, then the connection drops.
        response.write(dataset.subarray(0, dataset.length / 2), () => response.destroy());
        return;
      }
      response.end(dataset);
    });
    await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
    storeUrl = `http://127.0.0.1:${(store.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => store.close(() => resolve())));

  it('retries 5xx answers and broken-off downloads with backoff, and checks what finally arrived', async () => {
    const run = await attempt({ urls: true, edit: (assignment) => ({ ...assignment, dataset: { ...assignment.dataset, getUrl: `${storeUrl}/dataset?X-Amz-Signature=s` } }) });
    plan = ['503', 'cut', '503'];
    served = 0;
    expect(await run.ws.downloadDataset()).toBe(dataset.length);
    expect(served).toBe(4);
    expect(readFileSync(run.ws.datasetPath)).toEqual(dataset);
    const logs = run.ws.logs.archiveText();
    expect(logs).toMatch(/could not download the dataset: HTTP 503; trying again in .* \(try 2 of 5\)/);
    expect(logs).toMatch(/the dataset download broke off/);
    expect(logs).not.toContain('X-Amz-Signature');
  });

  it('retries a 5xx upload, and gives up after its tries', async () => {
    const run = await attempt({
      urls: true,
      edit: (assignment) => ({ ...assignment, uploads: { artifact: { key: 'flaky/output.tar', putUrl: `${storeUrl}/flaky/output.tar?X-Amz-Signature=s` }, checkpoints: [{ key: 'flaky/c1', putUrl: `${storeUrl}/flaky/c1?X-Amz-Signature=s` }], logs: null } }),
    });
    plan = ['503', '503'];
    expect(await run.ws.uploadCheckpoint(file(run.ws, 'c1', 'third time lucky'), 1, 'completed')).toBe('flaky/c1');
    expect(stored.get('/flaky/c1')?.toString()).toBe('third time lucky');
    plan = ['503', '503', '503', '503', '503'];
    writeFileSync(join(run.ws.outputDir, 'model.bin'), 'm');
    const error = await run.ws.uploadOutputs().then(() => null, (e: unknown) => e);
    expect((error as TransferError).message).toBe('the artifact upload was refused: HTTP 503 SlowDown');
    expect(plan).toEqual([]);
  });
});
