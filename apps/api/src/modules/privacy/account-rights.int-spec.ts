import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEventually } from '@anneal/test/support';
import { ObjectStorage } from '../../core/storage/object-storage.js';
import { readyDataset, topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';
import { SimulatedNode } from '../nodes/node-sim.js';
import { RetentionService } from './retention.service.js';
import { runningAttempt } from './testing/running-attempt.js';

const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 512, batchSize: 4, steps: 100 };
const DAY_MS = 86_400_000;

describe('data subject rights: export and account deletion (real Postgres, NATS, S3 protocol)', () => {
  const clock = new TestClock();
  let t: TestApp;
  let storage: ObjectStorage;

  beforeAll(async () => {
    t = await startTestApp({ s3: true, clock });
    storage = t.app.get(ObjectStorage);
  });

  afterAll(() => t?.close());

  const totpNow = (secret: string) => generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) });

  async function waitReady(id: string, token: string) {
    return expectEventually(async () => {
      const current = await t.http.get(`/v1/me/exports/${id}`, token);
      expect(current.status).toBe(200);
      expect(current.body.status).toBe('ready');
      return current.body;
    }, 20_000, 50);
  }

  it('exports everything about the user and their org as JSON, with progress, only to that user', async () => {
    const user = await signUp(t.http, { name: 'Ada Export' });
    await topUp(t.http, user.accessToken, '15.00');
    const dataset = await readyDataset(t.http, user.accessToken, { name: 'support chats' });
    const job = await t.http.post('/v1/jobs', { name: 'exported job', recipe, datasetId: dataset.id, resources: { gpuCount: 1 }, budgetCap: '1.00' }, user.accessToken);
    expect(job.status).toBe(201);
    const key = await t.http.post('/v1/api-keys', { name: 'ci key', scopes: ['jobs:read'] }, user.accessToken);
    expect(key.status).toBe(201);
    const apiKey = key.body.key ?? key.body.secret ?? key.body.apiKey;

    const started = await t.http.get('/v1/me/export', user.accessToken);
    expect([200, 202]).toContain(started.status);
    expect(started.body).toMatchObject({ status: expect.stringMatching(/queued|running|ready/), progressPct: expect.any(Number) });
    // Asking again while it is being built returns the same export, not a second one.
    const again = await t.http.get('/v1/me/export', user.accessToken);
    expect(again.body.id).toBe(started.body.id);

    const ready = await waitReady(started.body.id, user.accessToken);
    expect(ready.progressPct).toBe(100);
    expect(new Date(ready.expiresAt).getTime() - new Date(ready.finishedAt).getTime()).toBe(7 * DAY_MS);
    const download = await fetch(ready.download.url);
    expect(download.status).toBe(200);
    const text = await download.text();
    const archive = JSON.parse(text);
    expect(archive.schemaVersion).toBe(1);
    expect(archive.user).toMatchObject({ id: user.userId, email: user.email, name: 'Ada Export' });
    const org = archive.organizations.find((o: { orgId: string }) => o.orgId === user.orgId);
    expect(org.role).toBe('owner');
    expect(org.datasets.map((d: { name: string }) => d.name)).toContain('support chats');
    const exportedJob = org.jobs.find((j: { id: string }) => j.id === job.body.id);
    expect(exportedJob.name).toBe('exported job');
    expect(exportedJob.events.map((e: { type: string }) => e.type)).toContain('submitted');
    expect(org.apiKeys).toHaveLength(1);
    expect(org.apiKeys[0]).toMatchObject({ name: 'ci key', scopes: ['jobs:read'] });
    expect(org.statement.length).toBeGreaterThan(0);
    expect(org.topUps[0]).toMatchObject({ amountMicros: '15000000', status: 'succeeded' });
    expect(Array.isArray(org.invoices)).toBe(true);
    expect(archive.sessions.length).toBeGreaterThan(0);
    expect(archive.activity.map((a: { action: string }) => a.action)).toContain('user.signup');
    // Never a secret: no hashes, no sealed 2FA secret, not the API key itself.
    expect(text).not.toMatch(/secret_hash|secretHash|password_hash|passwordHash|totp_secret|refresh_token_hash/);
    const [{ secret_hash: keyHash }] = await t.dataSource.query('SELECT secret_hash FROM api_keys WHERE org_id = $1', [user.orgId]);
    expect(text).not.toContain(keyHash);
    if (typeof apiKey === 'string') expect(text).not.toContain(apiKey);
    // Stored with ObjectStorage.put, which asks for SSE (AES256) on every write (object-storage.int-spec.ts).
    const [row] = await t.dataSource.query('SELECT object_key FROM data_exports WHERE id = $1', [started.body.id]);
    expect(row.object_key).toBe(`exports/${user.userId}/${started.body.id}.json`);
    expect(await storage.head(row.object_key)).not.toBeNull();

    // Only the user themself: another user gets 404, an API key cannot export.
    const stranger = await signUp(t.http);
    expect((await t.http.get(`/v1/me/exports/${started.body.id}`, stranger.accessToken)).status).toBe(404);
    if (typeof apiKey === 'string') expect((await t.http.get('/v1/me/export', apiKey)).status).toBe(403);
    // A ready export is returned until it expires; then the cron deletes the archive.
    expect((await t.http.get('/v1/me/export', user.accessToken)).body.id).toBe(started.body.id);
    const expired = await t.app.get(RetentionService).expireDataExports(new Date(clock.now().getTime() + 8 * DAY_MS));
    expect(expired.expired).toBeGreaterThanOrEqual(1);
    expect(await storage.head(row.object_key)).toBeNull();
    expect((await t.http.get(`/v1/me/exports/${started.body.id}`, user.accessToken)).body).toMatchObject({ status: 'expired', download: null });
    const fresh = await t.http.get('/v1/me/export', user.accessToken);
    expect(fresh.body.id).not.toBe(started.body.id);
    await waitReady(fresh.body.id, user.accessToken);
  });

  it('deletes an account with 2FA: re-authentication, jobs canceled and holds released, data deleted, personal data gone, ledger and invoices kept', async () => {
    const user = await signUp(t.http, { name: 'Grace Delete' });
    await topUp(t.http, user.accessToken, '20.00');
    const enrol = await t.http.post('/v1/auth/2fa/enroll', {}, user.accessToken);
    const secret = enrol.body.secret as string;
    expect((await t.http.post('/v1/auth/2fa/verify', { code: await totpNow(secret) }, user.accessToken)).status).toBe(200);
    const dataset = await readyDataset(t.http, user.accessToken);
    const [{ storage_key: datasetKey }] = await t.dataSource.query('SELECT storage_key FROM datasets WHERE id = $1', [dataset.id]);
    const queued = await t.http.post('/v1/jobs', { name: 'Grace private job', recipe: { ...recipe, validationPrompts: ['my private prompt'] }, datasetId: dataset.id, resources: { gpuCount: 1 }, budgetCap: '2.00' }, user.accessToken);
    expect(queued.status).toBe(201);
    const finished = await runningAttempt(t, user.accessToken, dataset.id);
    const artifactKey = `jobs/${user.orgId}/${finished.jobId}/artifacts/model.bin`;
    await storage.put(artifactKey, Buffer.from('weights'));
    await t.dataSource.query(`INSERT INTO job_logs (id, job_id, attempt_id, seq, at, stream, line) VALUES (gen_random_uuid(), $1, $2, 1, now(), 'stdout', 'sample: my private data')`, [finished.jobId, finished.attemptId]);
    await finished.end('completed', [artifactKey]);
    const key = await t.http.post('/v1/api-keys', { name: 'deploy', scopes: ['jobs:read'] }, user.accessToken);
    const apiKey = (key.body.key ?? key.body.secret ?? key.body.apiKey) as string;
    expect((await t.http.get('/v1/jobs', apiKey)).status).toBe(200);
    await t.dataSource.query(
      `INSERT INTO invoices (id, org_id, period, period_start, period_end, currency, charges_micros, credits_micros, top_ups_micros, total_micros, lines, created_at)
       VALUES (gen_random_uuid(), $1, '2026-10', '2026-10-01', '2026-11-01', 'usd', 0, 0, 20000000, 0, '[]', now())`,
      [user.orgId],
    );
    await t.dataSource.query(`INSERT INTO email_outbox (id, to_address, subject, body, created_at, sent_at, attempts) VALUES (gen_random_uuid(), $1, 'Welcome', 'Hi Grace', now(), now(), 1)`, [user.email]);
    const transfersBefore = await t.dataSource.query(
      `SELECT t.id FROM ledger_transfers t JOIN ledger_accounts a ON a.id IN (t.debit_account_id, t.credit_account_id) WHERE a.owner_id = $1 ORDER BY t.id`,
      [user.orgId],
    );
    expect(transfersBefore.length).toBeGreaterThan(0);
    const balanceBefore = (await t.http.get('/v1/billing/balance', user.accessToken)).body;
    expect(balanceBefore.held.micros).not.toBe('0');

    // Re-authentication: the password, and a code because 2FA is on.
    expect((await t.http.request('DELETE', '/v1/me', { token: user.accessToken, body: { password: 'wrong password!!' } })).body.code).toBe('reauthentication_failed');
    const noCode = await t.http.request('DELETE', '/v1/me', { token: user.accessToken, body: { password: user.password } });
    expect(noCode.status).toBe(403);
    expect(noCode.body.code).toBe('two_factor_required');
    expect((await t.http.request('DELETE', '/v1/me', { token: apiKey, body: { password: user.password } })).status).toBe(403);
    const deleted = await t.http.request('DELETE', '/v1/me', { token: user.accessToken, body: { password: user.password, totpCode: await totpNow(secret) } });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ organizationsClosed: 1, membershipsRemoved: 0, jobsCanceled: 1, datasetsDeleted: 1 });
    expect(deleted.body.objectsDeleted).toBeGreaterThanOrEqual(1);

    // Old credentials are dead, the email is free again.
    expect((await t.http.get('/v1/me', user.accessToken)).status).toBe(401);
    expect((await t.http.get('/v1/jobs', apiKey)).status).toBe(401);
    expect((await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(401);
    expect((await t.http.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(401);
    const again = await t.http.post('/v1/auth/signup', { email: user.email, password: 'another good password', name: 'Grace Again' });
    expect(again.status).toBe(201);
    expect(again.body.userId).not.toBe(user.userId);

    // Data deleted from storage; the job canceled and its hold released.
    expect(await storage.head(datasetKey)).toBeNull();
    expect(await storage.head(artifactKey)).toBeNull();
    const [job] = await t.dataSource.query('SELECT status FROM jobs WHERE id = $1', [queued.body.id]);
    expect(job.status).toBe('canceled');
    const [held] = await t.dataSource.query(
      `SELECT (credits_posted + credits_pending - debits_posted - debits_pending)::text AS held FROM ledger_accounts WHERE owner_id = $1 AND kind = 'org_held'`,
      [user.orgId],
    );
    expect(held?.held ?? '0').toBe('0');

    // Personal data removed; the user row stays only as an anonymous tombstone.
    const [row] = await t.dataSource.query('SELECT email, name, password_hash, totp_secret_sealed, totp_enabled_at, status, deleted_at FROM users WHERE id = $1', [user.userId]);
    expect(row).toMatchObject({ email: null, name: null, password_hash: null, totp_secret_sealed: null, totp_enabled_at: null, status: 'deleted' });
    for (const table of ['sessions', 'recovery_codes', 'memberships', 'data_exports']) {
      expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [user.userId]))[0].n, table).toBe(0);
    }
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM api_keys WHERE created_by = $1 OR org_id = $2', [user.userId, user.orgId]))[0].n).toBe(0);
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM email_outbox WHERE to_address = $1', [user.email]))[0].n).toBe(0);
    const [org] = await t.dataSource.query('SELECT name FROM organizations WHERE id = $1', [user.orgId]);
    expect(org.name).toMatch(/^Deleted organization [0-9a-f]{16}$/);
    expect(org.name).not.toContain('Grace');
    expect(await t.dataSource.query('SELECT DISTINCT name FROM datasets WHERE org_id = $1', [user.orgId])).toEqual([{ name: 'deleted dataset' }]);
    expect(await t.dataSource.query(`SELECT DISTINCT name, recipe->'validationPrompts' AS prompts FROM jobs WHERE org_id = $1`, [user.orgId])).toEqual([{ name: 'deleted job', prompts: [] }]);
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM job_logs l JOIN jobs j ON j.id = l.job_id WHERE j.org_id = $1', [user.orgId]))[0].n).toBe(0);

    // Audit entries stay, with an anonymized actor and no IPs.
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM audit_log WHERE actor_user_id = $1', [user.userId]))[0].n).toBe(0);
    const anonymized = await t.dataSource.query(`SELECT actor_ref, ip, action FROM audit_log WHERE actor_ref LIKE 'deleted:%' AND org_id = $1`, [user.orgId]);
    expect(anonymized.length).toBeGreaterThan(0);
    expect(anonymized.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['user.deleted', 'job.submitted']));
    expect(new Set(anonymized.map((e: { actor_ref: string }) => e.actor_ref)).size).toBe(1);
    expect(anonymized.every((e: { ip: string | null }) => e.ip === null)).toBe(true);

    // Ledger and invoices stay (tax records) under the org id, an anonymous reference now.
    const transfersAfter = await t.dataSource.query(
      `SELECT t.id FROM ledger_transfers t JOIN ledger_accounts a ON a.id IN (t.debit_account_id, t.credit_account_id) WHERE a.owner_id = $1 ORDER BY t.id`,
      [user.orgId],
    );
    expect(transfersAfter.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining(transfersBefore.map((r: { id: string }) => r.id)));
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM invoices WHERE org_id = $1', [user.orgId]))[0].n).toBe(1);
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM top_ups WHERE org_id = $1', [user.orgId]))[0].n).toBe(1);
  });

  it('in a shared org only the membership goes; the only owner of a shared org must hand it over first', async () => {
    const owner = await signUp(t.http);
    const member = await signUp(t.http);
    await topUp(t.http, owner.accessToken, '5.00');
    const sharedDataset = await readyDataset(t.http, owner.accessToken);
    await t.dataSource.query(`INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, 'member', now())`, [owner.orgId, member.userId]);

    const refused = await t.http.request('DELETE', '/v1/me', { token: owner.accessToken, body: { password: owner.password } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('transfer_ownership_first');
    expect((await t.http.get('/v1/me', owner.accessToken)).status).toBe(200);

    const left = await t.http.request('DELETE', '/v1/me', { token: member.accessToken, body: { password: member.password } });
    expect(left.status).toBe(200);
    expect(left.body).toMatchObject({ organizationsClosed: 1, membershipsRemoved: 1 });
    // The owner's org and its data are untouched.
    expect((await t.http.get(`/v1/datasets/${sharedDataset.id}`, owner.accessToken)).body.status).toBe('ready');
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM memberships WHERE org_id = $1', [owner.orgId]))[0].n).toBe(1);
  });
});

describe('account deletion of a provider', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ s3: true });
  });

  afterAll(() => t?.close());

  it("removes the closed org's nodes (tokens revoked), but not while one runs a customer's job", async () => {
    const provider = await signUp(t.http);
    expect((await t.http.post(`/v1/orgs/${provider.orgId}/provider`, {}, provider.accessToken)).status).toBe(200);
    const joinToken = await t.http.post('/v1/provider/nodes/join-tokens', {}, provider.accessToken);
    const joined = await t.http.post('/v1/provider/nodes/join', new SimulatedNode(t.config.NATS_SUBJECT_PREFIX).joinRequest(joinToken.body.token));
    expect(joined.status).toBe(201);
    const nodeId = joined.body.nodeId as string;

    const customer = await signUp(t.http);
    await topUp(t.http, customer.accessToken, '5.00');
    const run = await runningAttempt(t, customer.accessToken, (await readyDataset(t.http, customer.accessToken)).id);
    await t.dataSource.query('UPDATE attempts SET node_id = $2, provider_kind = $3 WHERE id = $1', [run.attemptId, nodeId, 'community']);
    const refused = await t.http.request('DELETE', '/v1/me', { token: provider.accessToken, body: { password: provider.password } });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'nodes_busy', details: { nodeIds: [nodeId] } });
    expect((await t.http.get('/v1/me', provider.accessToken)).status).toBe(200);

    await t.dataSource.query(`UPDATE attempts SET status = 'ended', end_reason = 'completed', ended_at = now() WHERE id = $1`, [run.attemptId]);
    const deleted = await t.http.request('DELETE', '/v1/me', { token: provider.accessToken, body: { password: provider.password } });
    expect(deleted.status).toBe(200);
    const [node] = await t.dataSource.query('SELECT deleted_at, node_token_hash, listed FROM nodes WHERE id = $1', [nodeId]);
    expect(node.deleted_at).not.toBeNull();
    expect(node).toMatchObject({ node_token_hash: null, listed: false });
  });
});

describe('account deletion re-authentication is rate-limited like a login', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { LOGIN_RATE_LIMIT_PER_MINUTE: '3' } });
  });

  afterAll(() => t?.close());

  it('answers 429 with Retry-After once a client keeps guessing the password, and deletes nothing', async () => {
    const user = await signUp(t.http);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await t.http.request('DELETE', '/v1/me', { token: user.accessToken, body: { password: `guess number ${i}!` } });
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([403, 403, 403, 429]);
    expect((await t.http.get('/v1/me', user.accessToken)).status).toBe(200);
  });
});
