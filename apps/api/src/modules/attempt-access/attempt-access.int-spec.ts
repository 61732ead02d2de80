import { createHash, randomBytes } from 'node:crypto';
import type { AttemptEvent } from '@anneal/providers';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyDataset, topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { AttemptLifecycle } from '../jobs/attempt-lifecycle.service.js';
import { runningAttempt } from '../privacy/testing/running-attempt.js';
import { hashAttemptToken } from './attempt-token.guard.js';

const datasetBytes = Buffer.from('{"prompt":"ping","completion":"pong"}\n'.repeat(40));

describe('attempt storage URLs (attempt token → short-lived presigned URLs), real Postgres and S3 protocol', () => {
  let t: TestApp;
  let customer: Awaited<ReturnType<typeof signUp>>;
  let datasetId: string;

  beforeAll(async () => {
    t = await startTestApp({ s3: true, overrides: { ATTEMPT_URL_TTL_SECONDS: '600' } });
    customer = await signUp(t.http);
    await topUp(t.http, customer.accessToken, '10.00');
    datasetId = (await readyDataset(t.http, customer.accessToken, {}, datasetBytes)).id;
  });

  afterAll(() => t?.close());

  const ask = (attemptId: string, token: string | undefined, what: string) => t.http.request('POST', `/v1/attempts/${attemptId}/${what}`, { token });
  const ENDPOINTS = ['downloads/dataset', 'downloads/resume-checkpoint', 'uploads/artifact', 'uploads/logs', 'uploads/checkpoint-001'];

  /** Applies an agent event through the real lifecycle (as the attempt-events consumer does). */
  const report = (event: Record<string, unknown>) =>
    t.app.get(AttemptLifecycle).handle({ schemaVersion: 1, nodeId: 'node-x', at: new Date().toISOString(), ...event } as AttemptEvent);

  /** A second attempt of the same job, as the scheduler makes after the first ended. */
  async function nextAttempt(run: Awaited<ReturnType<typeof runningAttempt>>, number: number) {
    const attemptId = uuidv7();
    const attemptToken = `att_${randomBytes(32).toString('base64url')}`;
    await t.dataSource.query(
      `INSERT INTO attempts (id, job_id, org_id, number, provider_kind, offer_id, gpu_model, gpu_count, price_micros_per_gpu_hour, status, attempt_token_hash, created_at, running_at, last_seen_at)
       VALUES ($1, $2, $3, $4, 'gcp', 'gcp:test-offer', 'RTX 4090', 1, 450000, 'running', $5, now(), now(), now())`,
      [attemptId, run.jobId, run.orgId, number, hashAttemptToken(attemptToken)],
    );
    await t.dataSource.query(`UPDATE jobs SET status = 'running' WHERE id = $1`, [run.jobId]);
    return { attemptId, attemptToken };
  }

  it('works while the attempt is live, and dies on every endpoint the moment the attempt ends (401 attempt_token_revoked)', async () => {
    const run = await runningAttempt(t, customer.accessToken, datasetId);
    const live = await ask(run.attemptId, run.attemptToken, 'uploads/checkpoint-002');
    expect(live.status).toBe(200);
    expect(live.headers.get('cache-control')).toBe('no-store');
    expect(live.body.key).toBe(`jobs/${run.orgId}/${run.jobId}/${run.attemptId}/checkpoints/checkpoint-002.bin`);
    expect(live.body.headers).toEqual({ 'x-amz-server-side-encryption': 'AES256' });
    // The URL really uploads (with the signed encryption header).
    const put = await fetch(live.body.putUrl, { method: 'PUT', headers: live.body.headers, body: 'checkpoint bytes' });
    expect(put.status).toBe(200);

    await run.end('completed', []);
    for (const what of ENDPOINTS) {
      const after = await ask(run.attemptId, run.attemptToken, what);
      expect(after.status, what).toBe(401);
      expect(after.body.code, what).toBe('attempt_token_revoked');
    }
  });

  it('refuses a wrong token, another attempt’s token, a user token, and no token, all with 401', async () => {
    const first = await runningAttempt(t, customer.accessToken, datasetId);
    await first.end('user_canceled');
    const second = await runningAttempt(t, customer.accessToken, datasetId);
    const wrong = await ask(second.attemptId, `att_${'A'.repeat(43)}`, 'uploads/artifact');
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('attempt_token_invalid');
    for (const what of ENDPOINTS) {
      // A valid token of one attempt opens nothing of another.
      expect((await ask(second.attemptId, first.attemptToken, what)).body.code, what).toBe('attempt_token_invalid');
      expect((await ask(first.attemptId, second.attemptToken, what)).status, what).toBe(401);
      expect((await ask(second.attemptId, customer.accessToken, what)).status, what).toBe(401);
      expect((await ask(second.attemptId, undefined, what)).status, what).toBe(401);
      expect((await ask('00000000-0000-7000-8000-000000000000', second.attemptToken, what)).status, what).toBe(401);
    }
    expect((await ask(second.attemptId, second.attemptToken, 'uploads/artifact')).status).toBe(200);
    await second.end('user_canceled');
  });

  it('decides the keys as the scheduler does, with URLs that expire after ATTEMPT_URL_TTL_SECONDS', async () => {
    const run = await runningAttempt(t, customer.accessToken, datasetId);
    const base = `jobs/${run.orgId}/${run.jobId}`;
    const expected: Record<string, string> = {
      artifact: `${base}/artifacts/output.tar`,
      logs: `${base}/${run.attemptId}/logs.txt`,
      'checkpoint-001': `${base}/${run.attemptId}/checkpoints/checkpoint-001.bin`,
      'checkpoint-008': `${base}/${run.attemptId}/checkpoints/checkpoint-008.bin`,
    };
    for (const [slot, key] of Object.entries(expected)) {
      const before = Date.now();
      const response = await ask(run.attemptId, run.attemptToken, `uploads/${slot}`);
      expect(response.status, slot).toBe(200);
      expect(response.body.key).toBe(key);
      expect(new URL(response.body.putUrl).pathname.endsWith(`/${key}`)).toBe(true);
      expect(new URL(response.body.putUrl).searchParams.get('X-Amz-Expires')).toBe('600');
      const expiresInS = (Date.parse(response.body.expiresAt) - before) / 1000;
      expect(expiresInS).toBeGreaterThan(590);
      expect(expiresInS).toBeLessThanOrEqual(601);
      // Asking again (a renewal) writes the same object.
      expect((await ask(run.attemptId, run.attemptToken, `uploads/${slot}`)).body.key).toBe(key);
    }
    await run.end('user_canceled');
  });

  it('refuses slot names that do not exist with 400 invalid_upload_slot: at most 8 checkpoint slots per attempt', async () => {
    const run = await runningAttempt(t, customer.accessToken, datasetId);
    for (const slot of ['checkpoint-009', 'checkpoint-000', 'checkpoint-1', 'checkpoint-0001', 'dataset', 'ARTIFACT', 'logs.txt', '..%2Fartifact']) {
      const response = await ask(run.attemptId, run.attemptToken, `uploads/${slot}`);
      expect(response.status, slot).toBe(400);
      expect(response.body.code, slot).toBe('invalid_upload_slot');
      expect(response.body.message).toMatch(/checkpoint-001 to checkpoint-008/);
    }
    await run.end('user_canceled');
  });

  it('hands out the dataset: a short-lived GET of exactly the bytes the customer uploaded', async () => {
    const run = await runningAttempt(t, customer.accessToken, datasetId);
    const response = await ask(run.attemptId, run.attemptToken, 'downloads/dataset');
    expect(response.status).toBe(200);
    expect(new URL(response.body.getUrl).searchParams.get('X-Amz-Expires')).toBe('600');
    expect(Date.parse(response.body.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    const download = await fetch(response.body.getUrl);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(createHash('sha256').update(datasetBytes).digest('hex'));
    await run.end('user_canceled');
  });

  it('resumes from the latest checkpoint of an earlier attempt, never its own, never a key outside the job', async () => {
    const run = await runningAttempt(t, customer.accessToken, datasetId);
    const none = await ask(run.attemptId, run.attemptToken, 'downloads/resume-checkpoint');
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('no_resume_checkpoint');

    // The first attempt uploads a checkpoint through its slot and reports it, then is preempted.
    const slot = await ask(run.attemptId, run.attemptToken, 'uploads/checkpoint-001');
    expect((await fetch(slot.body.putUrl, { method: 'PUT', headers: slot.body.headers, body: 'weights at step 40' })).status).toBe(200);
    await report({ attemptId: run.attemptId, eventSeq: 5, type: 'checkpoint', step: 40, key: slot.body.key, sizeBytes: 18, reason: 'preempted' });
    // Its own checkpoint is not something it resumes from.
    expect((await ask(run.attemptId, run.attemptToken, 'downloads/resume-checkpoint')).status).toBe(404);
    await t.app.get(AttemptLifecycle).endAttempt(run.attemptId, 'preempted');

    const second = await nextAttempt(run, 2);
    const resume = await ask(second.attemptId, second.attemptToken, 'downloads/resume-checkpoint');
    expect(resume.status, JSON.stringify(resume.body)).toBe(200);
    expect(resume.body).toMatchObject({ step: 40, sizeBytes: 18 });
    expect(await (await fetch(resume.body.getUrl)).text()).toBe('weights at step 40');
    // The second attempt checkpoints too: it still resumes from the first attempt's checkpoint.
    const own = await ask(second.attemptId, second.attemptToken, 'uploads/checkpoint-001');
    expect(own.body.key).toBe(`jobs/${run.orgId}/${run.jobId}/${second.attemptId}/checkpoints/checkpoint-001.bin`);
    await report({ attemptId: second.attemptId, eventSeq: 7, type: 'checkpoint', step: 80, key: own.body.key, sizeBytes: 18, reason: 'interval' });
    expect((await ask(second.attemptId, second.attemptToken, 'downloads/resume-checkpoint')).body.step).toBe(40);
    await t.app.get(AttemptLifecycle).endAttempt(second.attemptId, 'preempted');

    // A key outside the attempt's own slots is never recorded: the next attempt still resumes from
    // the last real checkpoint, and nothing outside the job is signed for it.
    const third = await nextAttempt(run, 3);
    await report({ attemptId: second.attemptId, eventSeq: 8, type: 'checkpoint', step: 90, key: 'datasets/someone-else/data.jsonl', sizeBytes: 1, reason: 'interval' });
    const [job] = (await t.dataSource.query('SELECT last_checkpoint_key FROM jobs WHERE id = $1', [run.jobId])) as { last_checkpoint_key: string }[];
    expect(job?.last_checkpoint_key).toBe(own.body.key);
    const resumed = await ask(third.attemptId, third.attemptToken, 'downloads/resume-checkpoint');
    expect(resumed.status).toBe(200);
    expect(resumed.body.step).toBe(80);
    expect(resumed.body.getUrl).toContain(`/jobs/${run.orgId}/${run.jobId}/${second.attemptId}/checkpoints/checkpoint-001.bin`);
    await t.app.get(AttemptLifecycle).endAttempt(third.attemptId, 'user_canceled');
  });
});
