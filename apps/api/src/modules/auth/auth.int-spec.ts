import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';

const totpNow = (secret: string, clock: TestClock) => generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) });

describe('accounts and access (real Postgres + NATS)', () => {
  const clock = new TestClock();
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ clock });
  });

  afterAll(async () => {
    await t?.close();
  });

  async function countRows(table: string): Promise<number> {
    const [row] = await t.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`);
    return row.n;
  }

  it('signs up with a personal organization owned by the user', async () => {
    const user = await signUp(t.http, { name: 'Ada' });
    const me = await t.http.get('/v1/me', user.accessToken);
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(user.email);
    expect(me.body.organizations).toEqual([expect.objectContaining({ id: user.orgId, role: 'owner', personal: true })]);
    const [stored] = await t.dataSource.query('SELECT password_hash FROM users WHERE id = $1', [user.userId]);
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('refuses a second account with the same email, in any case', async () => {
    const user = await signUp(t.http);
    const again = await t.http.post('/v1/auth/signup', { email: user.email.toUpperCase(), password: 'another long password', name: 'X' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('email_taken');
  });

  it('gives the same answer for a wrong password and an unknown email, in the same timing class', async () => {
    const user = await signUp(t.http);
    const timed = async (email: string) => {
      const started = performance.now();
      const response = await t.http.post('/v1/auth/login', { email, password: 'definitely wrong password' });
      return { response, ms: performance.now() - started };
    };
    const wrong: number[] = [];
    const unknown: number[] = [];
    let wrongBody;
    let unknownBody;
    for (let i = 0; i < 3; i += 1) {
      const a = await timed(user.email);
      const b = await timed(`nobody-${i}@example.com`);
      wrong.push(a.ms);
      unknown.push(b.ms);
      expect(a.response.status).toBe(401);
      expect(b.response.status).toBe(401);
      wrongBody = a.response.body;
      unknownBody = b.response.body;
    }
    expect(wrongBody.code).toBe('invalid_credentials');
    expect(unknownBody.code).toBe(wrongBody.code);
    expect(unknownBody.message).toBe(wrongBody.message);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    // Both paths run a full argon2id verification: neither is an order of magnitude faster.
    expect(median(unknown) / median(wrong)).toBeGreaterThan(0.33);
    expect(median(unknown) / median(wrong)).toBeLessThan(3);
  });

  it('locks an account with growing backoff after repeated failures, then lets the right password in', async () => {
    const user = await signUp(t.http);
    for (let i = 0; i < 5; i += 1) {
      expect((await t.http.post('/v1/auth/login', { email: user.email, password: 'wrong password!' })).status).toBe(401);
    }
    const locked = await t.http.post('/v1/auth/login', { email: user.email, password: user.password });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('account_locked');
    clock.advance(31_000);
    const after = await t.http.post('/v1/auth/login', { email: user.email, password: user.password });
    expect(after.status).toBe(200);
  });

  it('refuses missing, malformed, expired and revoked tokens', async () => {
    const user = await signUp(t.http);
    const missing = await t.http.get('/v1/me');
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('unauthenticated');
    expect((await t.http.get('/v1/me', 'at.garbage.signature')).status).toBe(401);
    const forged = user.accessToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await t.http.get('/v1/me', forged)).status).toBe(401);

    const login = await t.http.post('/v1/auth/login', { email: user.email, password: user.password });
    clock.advance(t.config.ACCESS_TOKEN_TTL_SECONDS * 1000 + 1000);
    const expired = await t.http.get('/v1/me', login.body.accessToken);
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('token_expired');

    const refreshed = await t.http.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect((await t.http.get('/v1/me', refreshed.body.accessToken)).status).toBe(200);
    // A refresh token works once; reusing it ends the session.
    const reused = await t.http.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(reused.status).toBe(401);
    expect((await t.http.get('/v1/me', refreshed.body.accessToken)).status).toBe(401);

    const session = await t.http.post('/v1/auth/login', { email: user.email, password: user.password });
    expect((await t.http.request('POST', '/v1/auth/logout', { token: session.body.accessToken })).status).toBe(204);
    const afterLogout = await t.http.get('/v1/me', session.body.accessToken);
    expect(afterLogout.status).toBe(401);
    expect((await t.http.post('/v1/auth/refresh', { refreshToken: session.body.refreshToken })).status).toBe(401);
  });

  it('two-factor: enrol, verify, login needs the code, recovery codes work once, disable', async () => {
    const user = await signUp(t.http);
    const enrol = await t.http.post('/v1/auth/2fa/enroll', {}, user.accessToken);
    expect(enrol.status).toBe(200);
    expect(enrol.body.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const secret: string = enrol.body.secret;
    const [row] = await t.dataSource.query('SELECT totp_secret_sealed FROM users WHERE id = $1', [user.userId]);
    expect(row.totp_secret_sealed).not.toContain(secret);

    const badVerify = await t.http.post('/v1/auth/2fa/verify', { code: '000000' }, user.accessToken);
    expect(badVerify.status).toBe(400);
    expect(badVerify.body.code).toBe('two_factor_invalid');
    const verified = await t.http.post('/v1/auth/2fa/verify', { code: await totpNow(secret, clock) }, user.accessToken);
    expect(verified.status).toBe(200);
    const codes: string[] = verified.body.recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);

    const noCode = await t.http.post('/v1/auth/login', { email: user.email, password: user.password });
    expect(noCode.status).toBe(401);
    expect(noCode.body.code).toBe('two_factor_required');
    const wrongCode = await t.http.post('/v1/auth/login', { email: user.email, password: user.password, totpCode: '123456' === (await totpNow(secret, clock)) ? '654321' : '123456' });
    expect(wrongCode.status).toBe(401);
    expect(wrongCode.body.code).toBe('two_factor_invalid');
    const withCode = await t.http.post('/v1/auth/login', { email: user.email, password: user.password, totpCode: await totpNow(secret, clock) });
    expect(withCode.status).toBe(200);

    const first = await t.http.post('/v1/auth/login', { email: user.email, password: user.password, recoveryCode: codes[0] });
    expect(first.status).toBe(200);
    const second = await t.http.post('/v1/auth/login', { email: user.email, password: user.password, recoveryCode: codes[0] });
    expect(second.status).toBe(401);
    expect(second.body.code).toBe('two_factor_invalid');

    const disable = await t.http.post('/v1/auth/2fa/disable', { totpCode: await totpNow(secret, clock) }, withCode.body.accessToken);
    expect(disable.status).toBe(204);
    expect((await t.http.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);

    const actions = (await t.dataSource.query('SELECT action FROM audit_log WHERE target_id = $1 ORDER BY occurred_at', [user.userId])).map((r: { action: string }) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.2fa_enabled', 'auth.recovery_code_used', 'auth.2fa_disabled', 'auth.login', 'auth.login_failed']));
  });

  it('API keys: shown once, hashed, scoped, revocable, audited', async () => {
    const user = await signUp(t.http);
    const created = await t.http.post('/v1/api-keys', { name: 'ci', scopes: ['jobs:read'] }, user.accessToken);
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key.startsWith(created.body.prefix)).toBe(true);
    const [stored] = await t.dataSource.query('SELECT secret_hash FROM api_keys WHERE id = $1', [created.body.id]);
    expect(stored.secret_hash).not.toContain(key);
    const listed = await t.http.get('/v1/api-keys', user.accessToken);
    expect(listed.body[0]).not.toHaveProperty('key');

    const me = await t.http.get('/v1/me', key);
    expect(me.status).toBe(200);
    expect(me.body.authenticatedWith).toBe('api_key');
    const beyondScope = await t.http.get('/v1/orgs', key);
    expect(beyondScope.status).toBe(403);
    expect(beyondScope.body.code).toBe('insufficient_scope');
    const noKeyMinting = await t.http.post('/v1/api-keys', { name: 'x', scopes: ['jobs:read'] }, key);
    expect(noKeyMinting.status).toBe(403);

    const revoked = await t.http.request('DELETE', `/v1/api-keys/${created.body.id}`, { token: user.accessToken });
    expect(revoked.status).toBe(200);
    const afterRevoke = await t.http.get('/v1/me', key);
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body.code).toBe('api_key_revoked');

    const actions = (await t.dataSource.query('SELECT action FROM audit_log WHERE target_id = $1', [created.body.id])).map((r: { action: string }) => r.action);
    expect(actions.sort()).toEqual(['api_key.created', 'api_key.revoked']);
  });

  it("a member of another organization gets 404 for its resources, and nothing changes", async () => {
    const alice = await signUp(t.http);
    const bob = await signUp(t.http);
    const aliceKey = await t.http.post('/v1/api-keys', { name: 'a', scopes: ['orgs:read'] }, alice.accessToken);
    for (const path of [`/v1/orgs/${alice.orgId}`, `/v1/orgs/${alice.orgId}/members`]) {
      const response = await t.http.get(path, bob.accessToken);
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('not_found');
    }
    const invite = await t.http.post(`/v1/orgs/${alice.orgId}/invites`, { email: 'x@example.com', role: 'member' }, bob.accessToken);
    expect(invite.status).toBe(404);
    const revoke = await t.http.request('DELETE', `/v1/api-keys/${aliceKey.body.id}`, { token: bob.accessToken });
    expect(revoke.status).toBe(404);
    const [key] = await t.dataSource.query('SELECT revoked_at FROM api_keys WHERE id = $1', [aliceKey.body.id]);
    expect(key.revoked_at).toBeNull();
    const actingAsAlice = await t.http.get('/v1/me', bob.accessToken, { 'anneal-org': alice.orgId });
    expect(actingAsAlice.status).toBe(404);
    // The same is true for an API key of the other organization.
    expect((await t.http.get(`/v1/orgs/${bob.orgId}`, aliceKey.body.key)).status).toBe(404);
  });

  it('organizations: invite by email through the outbox, accept, change roles, keep an owner', async () => {
    const owner = await signUp(t.http);
    const invitee = await signUp(t.http);
    const org = await t.http.post('/v1/orgs', { name: 'Acme Research' }, owner.accessToken);
    expect(org.status).toBe(201);
    const invite = await t.http.post(`/v1/orgs/${org.body.id}/invites`, { email: invitee.email, role: 'member' }, owner.accessToken);
    expect(invite.status).toBe(201);
    const [mail] = await t.dataSource.query('SELECT body FROM email_outbox WHERE to_address = $1', [invitee.email]);
    const token = /inv_[A-Za-z0-9_-]+/.exec(mail.body)?.[0];
    expect(token).toBeDefined();
    const accepted = await t.http.post('/v1/invites/accept', { token }, invitee.accessToken);
    expect(accepted.status).toBe(200);
    expect(accepted.body.role).toBe('member');
    expect((await t.http.post('/v1/invites/accept', { token }, invitee.accessToken)).status).toBe(404);

    const asMember = await t.http.get('/v1/me', invitee.accessToken, { 'anneal-org': org.body.id });
    expect(asMember.body.actingOrgId).toBe(org.body.id);
    const memberInvites = await t.http.post(`/v1/orgs/${org.body.id}/invites`, { email: 'z@example.com', role: 'member' }, invitee.accessToken);
    expect(memberInvites.status).toBe(403);

    const promote = await t.http.request('PATCH', `/v1/orgs/${org.body.id}/members/${invitee.userId}`, { token: owner.accessToken, body: { role: 'admin' } });
    expect(promote.status).toBe(200);
    const lastOwner = await t.http.request('PATCH', `/v1/orgs/${org.body.id}/members/${owner.userId}`, { token: owner.accessToken, body: { role: 'member' } });
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.code).toBe('last_owner');
    const [audit] = await t.dataSource.query(`SELECT details FROM audit_log WHERE action = 'org.role_changed' AND target_id = $1`, [invitee.userId]);
    expect(audit.details).toEqual({ from: 'member', to: 'admin' });
  });

  it('bad input is a clear 4xx and writes nothing', async () => {
    const users = await countRows('users');
    const malformed = await t.http.request('POST', '/v1/auth/signup', { rawBody: '{"email": "a@b.c", "password": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('malformed_json');

    const huge = await t.http.request('POST', '/v1/auth/signup', { rawBody: JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(2_000_000), name: 'n' }) });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('payload_too_large');

    const wrongTypes = await t.http.post('/v1/auth/signup', { email: 42, password: ['x'], name: null });
    expect(wrongTypes.status).toBe(400);
    expect(wrongTypes.body.code).toBe('validation_failed');
    const fields = wrongTypes.body.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['email', 'password', 'name']));

    const unknownField = await t.http.post('/v1/auth/signup', { email: 'u@example.com', password: 'long enough password', name: 'U', isAdmin: true });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.details.fields).toEqual([{ field: 'isAdmin', message: 'is not a known field' }]);

    const injection = await t.http.post('/v1/auth/login', { email: "' OR '1'='1' --", password: "' OR 1=1; DROP TABLE users; --" });
    expect(injection.status).toBe(401);
    expect(injection.body.code).toBe('invalid_credentials');
    expect(await countRows('users')).toBe(users);

    const stored = await signUp(t.http, { name: "Robert'); DROP TABLE users;--" });
    const me = await t.http.get('/v1/me', stored.accessToken);
    expect(me.body.name).toBe("Robert'); DROP TABLE users;--");
    expect(await countRows('users')).toBe(users + 1);

    for (const response of [malformed, huge, wrongTypes, unknownField, injection]) {
      expect(Object.keys(response.body).sort()).toEqual(expect.arrayContaining(['code', 'message', 'requestId']));
      expect(JSON.stringify(response.body)).not.toMatch(/\bat .+\.(js|ts):\d+/);
      expect(response.body.requestId).toBe(response.headers.get('x-request-id'));
    }
  });

  it('unknown routes answer 404 in the same error format', async () => {
    const response = await t.http.get('/v1/no-such-thing');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ code: 'route_not_found', message: 'There is no GET /v1/no-such-thing.', requestId: expect.any(String) });
  });

  it('the audit log refuses UPDATE and DELETE (but allows the privacy redactions)', async () => {
    await signUp(t.http);
    const [entry] = await t.dataSource.query(`SELECT id FROM audit_log WHERE action = 'user.signup' LIMIT 1`);
    await expect(t.dataSource.query(`UPDATE audit_log SET action = 'x' WHERE id = $1`, [entry.id])).rejects.toThrow(/append-only/);
    await expect(t.dataSource.query(`DELETE FROM audit_log WHERE id = $1`, [entry.id])).rejects.toThrow(/append-only/);
    await expect(t.dataSource.query(`UPDATE audit_log SET ip = '10.0.0.1' WHERE id = $1`, [entry.id])).rejects.toThrow(/append-only/);
    await t.dataSource.query(`UPDATE audit_log SET ip = NULL, user_agent = NULL WHERE id = $1`, [entry.id]);
  });

  it('never writes a password, token, API key or TOTP secret to the log', async () => {
    const password = 'unique-password-canary-7f3a9';
    const user = await signUp(t.http, { password });
    await t.http.post('/v1/auth/login', { email: user.email, password: 'wrong-canary-password-91b2' });
    const key = await t.http.post('/v1/api-keys', { name: 'canary', scopes: ['jobs:read'] }, user.accessToken);
    await t.http.get('/v1/me', key.body.key);
    const enrol = await t.http.post('/v1/auth/2fa/enroll', {}, user.accessToken);
    await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(t.logLines.length).toBeGreaterThan(5);
    const log = t.logLines.join('\n');
    for (const secret of [password, 'wrong-canary-password-91b2', user.accessToken, user.refreshToken, key.body.key, enrol.body.secret]) {
      expect(log).not.toContain(secret);
    }
    // Every request line carries its request id.
    const requestLines = t.logLines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request');
    expect(requestLines.length).toBeGreaterThan(3);
    for (const line of requestLines) expect(line.requestId).toEqual(expect.any(String));
  });

  it('health, readiness, metrics and the OpenAPI document', async () => {
    expect((await t.http.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'ok', nats: 'ok' });
    const metrics = await t.http.get('/metrics');
    expect(metrics.body).toContain('anneal_http_request_duration_seconds_bucket');
    expect(metrics.body).toMatch(/route="\/v1\/me",status="200"/);
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
    const openapi = await t.http.get('/openapi.json');
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/auth/login', '/v1/api-keys', '/v1/orgs/{orgId}']));
    const docs = await t.http.get('/docs');
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain('swagger');
  });
});

describe('rate limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { LOGIN_RATE_LIMIT_PER_MINUTE: '3' } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 429 with Retry-After once a client exceeds the login limit', async () => {
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 4; i += 1) {
      const response = await t.http.post('/v1/auth/login', { email: `x${i}@example.com`, password: 'whatever password' });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(limited?.body.code).toBe('rate_limited');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
