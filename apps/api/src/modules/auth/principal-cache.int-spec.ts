import { Writable } from 'node:stream';
import { expectEventually } from '@anneal/test/support';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../app.factory.js';
import { createLogger } from '../../core/logging/logger.js';
import { signUpAdmin } from '../disputes/testing/dispute-fixtures.js';
import { HttpClient, signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';
import { AuthInvalidationService } from './auth-invalidation.service.js';
import type { AuthInvalidation } from './auth-invalidation.js';

/**
 * Two API replicas on one database and one NATS prefix, each with its own principal cache: a
 * change made through one must stop the credential on both at once (each test waits for the
 * broadcast to arrive at the second replica, never on a timer).
 */
describe('principal cache across replicas (real Postgres + NATS)', () => {
  const clock = new TestClock();
  let a: TestApp;
  let b: NestExpressApplication;
  let bHttp: HttpClient;

  beforeAll(async () => {
    a = await startTestApp({ clock });
    b = await createApp({ config: a.config, logger: createLogger('warn', new Writable({ write: (_c, _e, done) => done() })), clock });
    await b.listen(0, '127.0.0.1');
    const address = b.getHttpServer().address();
    bHttp = new HttpClient(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const cacheOf = (app: NestExpressApplication) => app.get(AuthInvalidationService);

  /** Whether this replica holds a cached principal that `invalidation` names. */
  const holds = (app: NestExpressApplication, invalidation: AuthInvalidation) => cacheOf(app).cache.countAffected(invalidation) > 0;

  /** Resolves once replica `app` has applied an invalidation that matches. */
  function arrival(app: NestExpressApplication, match: (i: AuthInvalidation) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error('the invalidation never reached the second replica'));
      }, 10_000);
      const stop = cacheOf(app).onApplied((invalidations) => {
        if (!invalidations.some(match)) return;
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  }

  it('serves a repeated credential from memory on each replica', async () => {
    const user = await signUp(a.http);
    expect((await a.http.get('/v1/me', user.accessToken)).status).toBe(200);
    expect((await bHttp.get('/v1/me', user.accessToken)).status).toBe(200);
    expect(holds(a.app, { kind: 'user', userId: user.userId })).toBe(true);
    expect(holds(b, { kind: 'user', userId: user.userId })).toBe(true);
  });

  it('sign-out on one replica ends the session on both at once', async () => {
    const user = await signUp(a.http);
    const login = await a.http.post('/v1/auth/login', { email: user.email, password: user.password });
    const token: string = login.body.accessToken;
    expect((await a.http.get('/v1/me', token)).status).toBe(200);
    expect((await bHttp.get('/v1/me', token)).status).toBe(200);
    const [{ id: sessionId }] = await a.dataSource.query('SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1', [user.userId]);
    expect(holds(b, { kind: 'session', sessionId })).toBe(true);

    const arrived = arrival(b, (i) => i.kind === 'session' && i.sessionId === sessionId);
    expect((await a.http.request('POST', '/v1/auth/logout', { token })).status).toBe(204);
    expect((await a.http.get('/v1/me', token)).status).toBe(401);
    await arrived;
    expect(holds(b, { kind: 'session', sessionId })).toBe(false);
    const onB = await bHttp.get('/v1/me', token);
    expect(onB.status).toBe(401);
    expect(onB.body.code).toBe('token_expired');
    // The user's other session is untouched.
    expect((await bHttp.get('/v1/me', user.accessToken)).status).toBe(200);
  });

  it('a revoked API key fails at once on both replicas', async () => {
    const user = await signUp(a.http);
    const created = await a.http.post('/v1/api-keys', { name: 'ci', scopes: ['jobs:read'] }, user.accessToken);
    const key: string = created.body.key;
    expect((await a.http.get('/v1/me', key)).status).toBe(200);
    expect((await bHttp.get('/v1/me', key)).status).toBe(200);
    expect(holds(b, { kind: 'api_key', apiKeyId: created.body.id })).toBe(true);

    const arrived = arrival(b, (i) => i.kind === 'api_key' && i.apiKeyId === created.body.id);
    expect((await a.http.request('DELETE', `/v1/api-keys/${created.body.id}`, { token: user.accessToken })).status).toBe(200);
    expect((await a.http.get('/v1/me', key)).body.code).toBe('api_key_revoked');
    await arrived;
    const onB = await bHttp.get('/v1/me', key);
    expect(onB.status).toBe(401);
    expect(onB.body.code).toBe('api_key_revoked');
  });

  it("suspending a user stops their sessions and keys on both replicas", async () => {
    const admin = await signUpAdmin(a, clock);
    const user = await signUp(a.http);
    const key = (await a.http.post('/v1/api-keys', { name: 'k', scopes: ['jobs:read'] }, user.accessToken)).body.key as string;
    for (const http of [a.http, bHttp]) {
      expect((await http.get('/v1/me', user.accessToken)).status).toBe(200);
      expect((await http.get('/v1/me', key)).status).toBe(200);
    }
    expect(holds(b, { kind: 'user', userId: user.userId })).toBe(true);

    const arrived = arrival(b, (i) => i.kind === 'user' && i.userId === user.userId);
    const suspended = await a.http.post(`/v1/admin/users/${user.userId}/suspend`, { reason: 'chargeback fraud' }, admin.accessToken);
    expect(suspended.status).toBe(200);
    expect((await a.http.get('/v1/me', user.accessToken)).body.code).toBe('account_suspended');
    await arrived;
    const session = await bHttp.get('/v1/me', user.accessToken);
    expect(session.status).toBe(403);
    expect(session.body.code).toBe('account_suspended');
    expect((await bHttp.get('/v1/me', key)).status).toBe(401);
  });

  it('removing a member, or changing their role, takes effect at once on the other replica', async () => {
    const owner = await signUp(a.http);
    const member = await signUp(a.http);
    const org = (await a.http.post('/v1/orgs', { name: 'Shared Lab' }, owner.accessToken)).body.id as string;
    const invite = await a.http.post(`/v1/orgs/${org}/invites`, { email: member.email, role: 'member' }, owner.accessToken);
    expect(invite.status).toBe(201);
    const [mail] = await a.dataSource.query('SELECT body FROM email_outbox WHERE to_address = $1', [member.email]);
    expect((await a.http.post('/v1/invites/accept', { token: /inv_[A-Za-z0-9_-]+/.exec(mail.body)?.[0] }, member.accessToken)).status).toBe(200);
    const asMember = { 'anneal-org': org };
    const ownersKey = (await a.http.post('/v1/api-keys', { name: 'owner key', scopes: ['jobs:read'] }, owner.accessToken, asMember)).body.id as string;

    // A member may revoke only their own keys: refused on B, from a principal B now caches.
    const refused = await bHttp.request('DELETE', `/v1/api-keys/${ownersKey}`, { token: member.accessToken, headers: asMember });
    expect(refused.status).toBe(403);
    expect(holds(b, { kind: 'membership', userId: member.userId, orgId: org })).toBe(true);
    let arrived = arrival(b, (i) => i.kind === 'membership' && i.userId === member.userId && i.orgId === org);
    expect((await a.http.request('PATCH', `/v1/orgs/${org}/members/${member.userId}`, { token: owner.accessToken, body: { role: 'admin' } })).status).toBe(200);
    await arrived;
    expect((await bHttp.request('DELETE', `/v1/api-keys/${ownersKey}`, { token: member.accessToken, headers: asMember })).status).toBe(200);

    expect((await bHttp.get('/v1/me', member.accessToken, asMember)).body.actingOrgId).toBe(org);
    expect((await bHttp.get('/v1/me', member.accessToken)).body.actingOrgId).toBe(member.orgId);
    arrived = arrival(b, (i) => i.kind === 'membership' && i.userId === member.userId && i.orgId === org);
    expect((await a.http.request('DELETE', `/v1/orgs/${org}/members/${member.userId}`, { token: owner.accessToken })).status).toBe(204);
    expect((await a.http.get('/v1/me', member.accessToken, asMember)).status).toBe(404);
    await arrived;
    const gone = await bHttp.get('/v1/me', member.accessToken, asMember);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('not_found');
    // Their own organization is not affected.
    expect((await bHttp.get('/v1/me', member.accessToken)).status).toBe(200);
  });

  it("never serves another organization's principal", async () => {
    const alice = await signUp(a.http);
    const bob = await signUp(a.http);
    const aliceKey = (await a.http.post('/v1/api-keys', { name: 'a', scopes: ['jobs:read', 'orgs:read'] }, alice.accessToken)).body.key as string;
    // Alice's principal for her org is cached on both replicas.
    for (const http of [a.http, bHttp]) {
      expect((await http.get('/v1/me', alice.accessToken, { 'anneal-org': alice.orgId })).body.actingOrgId).toBe(alice.orgId);
      expect((await http.get('/v1/me', aliceKey)).body.actingOrgId).toBe(alice.orgId);
    }
    for (const http of [a.http, bHttp]) {
      // Bob asking for Alice's org, twice (the second would be a hit if refusals were cached).
      for (let i = 0; i < 2; i += 1) {
        const asAlice = await http.get('/v1/me', bob.accessToken, { 'anneal-org': alice.orgId });
        expect(asAlice.status).toBe(404);
      }
      expect((await http.get('/v1/me', bob.accessToken)).body.actingOrgId).toBe(bob.orgId);
      // An API key acts for its own organization, whatever the header asks.
      expect((await http.get('/v1/me', aliceKey, { 'anneal-org': bob.orgId })).body.actingOrgId).toBe(alice.orgId);
      expect((await http.get(`/v1/orgs/${bob.orgId}`, aliceKey)).status).toBe(404);
    }
  });

  it('an admin route re-checks a cached refusal: a promotion counts at once', async () => {
    const user = await signUp(a.http);
    expect((await bHttp.get('/v1/admin/audit', user.accessToken)).status).toBe(403);
    // Promoted outside the API (the admin CLI does this): no invalidation is sent.
    await a.dataSource.query('UPDATE users SET is_admin = true WHERE id = $1', [user.userId]);
    const promoted = await bHttp.get('/v1/admin/audit', user.accessToken);
    expect(promoted.status).toBe(403);
    expect(promoted.body.code).toBe('two_factor_required');
  });

  it("records an API key's last use at most once a minute, off the request's path", async () => {
    const user = await signUp(a.http);
    const created = await a.http.post('/v1/api-keys', { name: 'usage', scopes: ['jobs:read'] }, user.accessToken);
    const lastUsed = async (): Promise<Date | null> => (await a.dataSource.query('SELECT last_used_at FROM api_keys WHERE id = $1', [created.body.id]))[0].last_used_at;
    expect(await lastUsed()).toBeNull();
    expect((await a.http.get('/v1/me', created.body.key)).status).toBe(200);
    const first = (await expectEventually(async () => (await lastUsed()) ?? false)) as Date;
    for (let i = 0; i < 3; i += 1) expect((await a.http.get('/v1/me', created.body.key)).status).toBe(200);
    expect((await lastUsed())?.getTime()).toBe(first.getTime());
    clock.advance(61_000);
    expect((await a.http.get('/v1/me', created.body.key)).status).toBe(200);
    await expectEventually(async () => ((await lastUsed())?.getTime() ?? 0) > first.getTime());
  });
});
