import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyDataset, topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { SimulatedNode } from '../nodes/node-sim.js';
import { runningAttempt } from './testing/running-attempt.js';

const WEBHOOK_SECRET = 'whsec-logscan-0123456789abcdef';
const totpNow = (secret: string) => generate({ secret, epoch: Math.floor(Date.now() / 1000) });

/** The signature of a presigned URL (the part that authorizes it). */
function signatureOf(url: string): string {
  const signature = new URL(url).searchParams.get('X-Amz-Signature');
  if (!signature) throw new Error(`not a presigned URL: ${url.slice(0, 80)}`);
  return signature;
}

describe('no secret ever reaches the logs (main flows at trace level, every line scanned)', () => {
  let t: TestApp;
  const secrets = new Map<string, string>();
  const remember = (what: string, value: unknown) => {
    if (typeof value !== 'string' || value.length < 8) throw new Error(`${what}: expected a secret string, got ${String(value)}`);
    secrets.set(`${what} #${secrets.size}`, value);
  };

  beforeAll(async () => {
    t = await startTestApp({ s3: true, overrides: { LOG_LEVEL: 'trace', PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET } });
    remember('AUTH_TOKEN_SECRET', t.config.AUTH_TOKEN_SECRET);
    remember('ENCRYPTION_KEYS key', t.config.ENCRYPTION_KEYS.split(':')[1]);
    remember('payment webhook secret', WEBHOOK_SECRET);
  });

  afterAll(() => t?.close());

  it('drives sign-up, login with 2FA, API keys, dataset upload, job submission, top-up webhook, node join and attempt uploads', async () => {
    // Sign-up and login (and the failures, which are where inputs tend to leak).
    const password = 'logscan horse battery staple';
    const user = await signUp(t.http, { password });
    remember('password', password);
    remember('access token', user.accessToken);
    remember('refresh token', user.refreshToken);
    await t.http.post('/v1/auth/login', { email: user.email, password: 'wrong-but-secret-password-1' });
    remember('wrong password', 'wrong-but-secret-password-1');
    await t.http.post('/v1/auth/signup', { email: 'not-an-email', password: 'rejected-secret-password-2', name: 'x' });
    remember('rejected password', 'rejected-secret-password-2');
    const refreshed = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
    remember('rotated refresh token', refreshed.body.refreshToken);
    remember('refreshed access token', refreshed.body.accessToken);
    const token = refreshed.body.accessToken as string;

    // Two-factor: enrolment secret, recovery codes, login with a code and with a recovery code.
    const enrol = await t.http.post('/v1/auth/2fa/enroll', {}, token);
    remember('TOTP secret', enrol.body.secret);
    const verified = await t.http.post('/v1/auth/2fa/verify', { code: await totpNow(enrol.body.secret) }, token);
    for (const code of verified.body.recoveryCodes as string[]) remember('recovery code', code);
    const withCode = await t.http.post('/v1/auth/login', { email: user.email, password, totpCode: await totpNow(enrol.body.secret) });
    expect(withCode.status).toBe(200);
    remember('2FA access token', withCode.body.accessToken);
    const withRecovery = await t.http.post('/v1/auth/login', { email: user.email, password, recoveryCode: verified.body.recoveryCodes[0] });
    expect(withRecovery.status).toBe(200);

    // API keys: created, used, revoked, used again.
    const key = await t.http.post('/v1/api-keys', { name: 'ci', scopes: ['jobs:read', 'jobs:write', 'datasets:read'] }, token);
    remember('API key', key.body.key);
    expect((await t.http.get('/v1/jobs', key.body.key)).status).toBe(200);
    await t.http.request('DELETE', `/v1/api-keys/${key.body.id}`, { token });
    expect((await t.http.get('/v1/jobs', key.body.key)).status).toBe(401);

    // Top-up through the signed payment webhook; dataset upload and download through presigned URLs.
    await topUp(t.http, token, '20.00');
    const created = await t.http.post('/v1/datasets', { name: 'd', format: 'jsonl', sizeBytes: 10, sha256: 'a'.repeat(64), license: 'cc-by-4.0' }, token);
    remember('dataset upload URL signature', signatureOf(created.body.upload.url));
    const dataset = await readyDataset(t.http, token);
    const download = await t.http.get(`/v1/datasets/${dataset.id}/download`, token);
    remember('dataset download URL signature', signatureOf(download.body.url));

    // Job submission, a running attempt asking for upload URLs with its token, artifacts, export.
    const run = await runningAttempt(t, token, dataset.id);
    remember('attempt token', run.attemptToken);
    const upload = await t.http.request('POST', `/v1/attempts/${run.attemptId}/uploads/checkpoint-001`, { token: run.attemptToken });
    remember('attempt upload URL signature', signatureOf(upload.body.putUrl));
    const datasetUrl = await t.http.request('POST', `/v1/attempts/${run.attemptId}/downloads/dataset`, { token: run.attemptToken });
    remember('attempt dataset URL signature', signatureOf(datasetUrl.body.getUrl));
    await t.http.request('POST', `/v1/attempts/${run.attemptId}/uploads/logs`, { token: 'att_forged-but-secret-token-0123456789' });
    remember('forged attempt token', 'att_forged-but-secret-token-0123456789');
    await run.end('completed', [`jobs/${run.orgId}/${run.jobId}/artifacts/model.bin`]);
    const artifacts = await t.http.get(`/v1/jobs/${run.jobId}/artifacts`, token);
    remember('artifact URL signature', signatureOf(artifacts.body.artifacts[0].url));

    // Node join: a provider's join token and the node token the API hands back.
    expect((await t.http.post(`/v1/orgs/${user.orgId}/provider`, {}, token)).status).toBe(200);
    const joinToken = await t.http.post('/v1/provider/nodes/join-tokens', {}, token);
    remember('join token', joinToken.body.token);
    const node = new SimulatedNode(t.config.NATS_SUBJECT_PREFIX);
    const joined = await t.http.post('/v1/provider/nodes/join', node.joinRequest(joinToken.body.token));
    expect(joined.status).toBe(201);
    remember('node token', joined.body.nodeToken);
    remember('node seed', node.keys.seed);
    remember('node heartbeat key', joined.body.heartbeatKey);
    const reused = await t.http.post('/v1/provider/nodes/join', new SimulatedNode(t.config.NATS_SUBJECT_PREFIX).joinRequest(joinToken.body.token));
    expect(reused.status).toBeGreaterThanOrEqual(400);

    // The account's own rights: export download URL.
    const exported = await t.http.get('/v1/me/export', token);
    const { expectEventually } = await import('@anneal/test/support');
    const ready = await expectEventually(async () => {
      const current = await t.http.get(`/v1/me/exports/${exported.body.id}`, token);
      expect(current.body.status).toBe('ready');
      return current.body;
    }, 20_000, 50);
    remember('export URL signature', signatureOf(ready.download.url));

    // The logs are real (request lines from these flows are there), and none carries a secret.
    expect(t.logLines.length).toBeGreaterThan(50);
    expect(t.logLines.some((line) => line.includes('/v1/auth/login'))).toBe(true);
    expect(t.logLines.some((line) => line.includes('/v1/provider/nodes/join'))).toBe(true);
    const leaks: string[] = [];
    for (const [what, value] of secrets) {
      const line = t.logLines.find((l) => l.includes(value));
      if (line) leaks.push(`${what} in: ${line.slice(0, 300)}`);
    }
    expect(leaks).toEqual([]);
    // And no presigned-URL signature of any kind, whatever produced it.
    expect(t.logLines.filter((line) => /X-Amz-Signature=/i.test(line))).toEqual([]);
  });
});
