import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyDataset, topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { runningAttempt } from '../privacy/testing/running-attempt.js';

describe('per-attempt credentials (attempt token → upload URLs), real Postgres and S3 protocol', () => {
  let t: TestApp;
  let customer: Awaited<ReturnType<typeof signUp>>;
  let datasetId: string;

  beforeAll(async () => {
    t = await startTestApp({ s3: true });
    customer = await signUp(t.http);
    await topUp(t.http, customer.accessToken, '10.00');
    datasetId = (await readyDataset(t.http, customer.accessToken)).id;
  });

  afterAll(() => t?.close());

  const ask = (attemptId: string, token: string | undefined, body: unknown = { kind: 'checkpoint', count: 2 }) =>
    t.http.request('POST', `/v1/attempts/${attemptId}/upload-urls`, { token, body });

  it('works while the attempt is live, under its own prefix, and dies the moment the attempt ends (401 attempt_token_revoked)', async () => {
    const run = await runningAttempt(t, customer.accessToken, datasetId);
    const live = await ask(run.attemptId, run.attemptToken);
    expect(live.status).toBe(200);
    expect(live.body.urls).toHaveLength(2);
    for (const url of live.body.urls) {
      expect(url.key.startsWith(`jobs/${run.orgId}/${run.jobId}/${run.attemptId}/checkpoints/`)).toBe(true);
      expect(url.headers).toEqual({ 'x-amz-server-side-encryption': 'AES256' });
    }
    // The URL really uploads (with the signed encryption header), and only with it.
    const put = await fetch(live.body.urls[0].putUrl, { method: 'PUT', headers: live.body.urls[0].headers, body: 'checkpoint bytes' });
    expect(put.status).toBe(200);
    const logs = await ask(run.attemptId, run.attemptToken, { kind: 'log', count: 1 });
    expect(logs.body.urls[0].key).toMatch(new RegExp(`^jobs/${run.orgId}/${run.jobId}/${run.attemptId}/logs/log-.+\\.txt$`));

    await run.end('completed', []);
    const after = await ask(run.attemptId, run.attemptToken);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('attempt_token_revoked');
  });

  it('refuses a wrong token, another attempt’s token, a user token, and no token, all with 401', async () => {
    const first = await runningAttempt(t, customer.accessToken, datasetId);
    await first.end('user_canceled');
    const second = await runningAttempt(t, customer.accessToken, datasetId);
    const wrong = await ask(second.attemptId, `att_${'A'.repeat(43)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('attempt_token_invalid');
    // A valid token of one attempt opens nothing of another.
    expect((await ask(second.attemptId, first.attemptToken)).body.code).toBe('attempt_token_invalid');
    expect((await ask(first.attemptId, second.attemptToken)).status).toBe(401);
    expect((await ask(second.attemptId, customer.accessToken)).status).toBe(401);
    expect((await ask(second.attemptId, undefined)).status).toBe(401);
    expect((await ask('00000000-0000-7000-8000-000000000000', second.attemptToken)).status).toBe(401);
    expect((await ask(second.attemptId, second.attemptToken)).status).toBe(200);
    await second.end('user_canceled');
  });

  it('validates the request: kind and a count of 1–20', async () => {
    const run = await runningAttempt(t, customer.accessToken, datasetId);
    expect((await ask(run.attemptId, run.attemptToken, { kind: 'artifact', count: 1 })).status).toBe(400);
    expect((await ask(run.attemptId, run.attemptToken, { kind: 'log', count: 0 })).status).toBe(400);
    expect((await ask(run.attemptId, run.attemptToken, { kind: 'log', count: 21 })).status).toBe(400);
    await run.end('user_canceled');
  });
});
