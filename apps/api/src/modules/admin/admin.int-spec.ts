import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../core/clock/clock.js';
import { topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type HttpClient, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';
import { BillingService } from '../billing/billing.service.js';
import { MIN, insertNode, jobRow, signUpAdmin, type Account } from '../disputes/testing/dispute-fixtures.js';
import { DbCommunityNodeSource } from '../nodes/community-node-source.js';
import { Job } from '../jobs/entities/job.entity.js';
import { ModerationResult } from '../moderation/entities/moderation-result.entity.js';

describe('admin: moderation review, account review, audit log (real Postgres + NATS)', () => {
  const clock = new TestClock();
  let t: TestApp;
  let http: HttpClient;
  let admin: Account;
  let offender: Account;
  let decent: Account;

  const moderation = (orgId: string, outcome: 'passed' | 'rejected', subjectType: 'dataset' | 'job' = 'dataset') => ({
    id: newId(),
    subjectType,
    subjectId: newId(),
    orgId,
    outcome,
    reasons: outcome === 'rejected' ? [{ code: 'blocked_term_in_name', message: 'The name contains a blocked term.' }] : [],
    createdAt: clock.now(),
    reviewOutcome: null,
    reviewedBy: null,
    reviewedAt: null,
    reviewNote: null,
  });

  beforeAll(async () => {
    t = await startTestApp({ clock });
    http = t.http;
    admin = await signUpAdmin(t, clock);
    offender = await signUp(http, { name: 'Mallory Offender' });
    decent = await signUp(http, { name: 'Dora Decent' });
    // Offender: 3 rejections of 4 decisions (75%) → flagged. Decent: 1 of 4 → not flagged.
    await t.dataSource.manager.insert(ModerationResult, [
      moderation(offender.orgId, 'rejected'),
      moderation(offender.orgId, 'rejected'),
      moderation(offender.orgId, 'rejected', 'job'),
      moderation(offender.orgId, 'passed'),
      moderation(decent.orgId, 'rejected'),
      moderation(decent.orgId, 'passed'),
      moderation(decent.orgId, 'passed'),
      moderation(decent.orgId, 'passed'),
    ] as never);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lists the moderation queue with the rule that fired; upholds and overrides with a note, once', async () => {
    const queue = await http.get('/v1/admin/moderation', admin.accessToken);
    expect(queue.status).toBe(200);
    expect(queue.body.items).toHaveLength(4);
    expect(queue.body.items[0].rules).toEqual([{ code: 'blocked_term_in_name', message: 'The name contains a blocked term.' }]);
    const jobsOnly = await http.get('/v1/admin/moderation?subjectType=job', admin.accessToken);
    expect(jobsOnly.body.items).toHaveLength(1);

    const decentRejection = (await http.get(`/v1/admin/moderation?orgId=${decent.orgId}`, admin.accessToken)).body.items[0];
    const overridden = await http.post(`/v1/admin/moderation/${decentRejection.id}/review`, { decision: 'override', note: 'A false positive: the term is a product name.' }, admin.accessToken);
    expect(overridden.status).toBe(200);
    expect(overridden.body.review).toMatchObject({ outcome: 'passed', decision: 'override', reviewedBy: admin.userId });
    const twice = await http.post(`/v1/admin/moderation/${decentRejection.id}/review`, { decision: 'uphold', note: 'Second thoughts.' }, admin.accessToken);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('already_reviewed');

    const offenderRejection = queue.body.items.find((i: { orgId: string }) => i.orgId === offender.orgId);
    const upheld = await http.post(`/v1/admin/moderation/${offenderRejection.id}/review`, { decision: 'uphold', note: 'Clearly against the rules.' }, admin.accessToken);
    expect(upheld.body.review.outcome).toBe('rejected');

    expect((await http.get('/v1/admin/moderation', admin.accessToken)).body.items).toHaveLength(2);
    expect((await http.get('/v1/admin/moderation?status=reviewed', admin.accessToken)).body.items).toHaveLength(2);
    expect((await http.post(`/v1/admin/moderation/${newId()}/review`, { decision: 'uphold', note: 'No such thing.' }, admin.accessToken)).status).toBe(404);
    expect((await http.post(`/v1/admin/moderation/${decentRejection.id}/review`, { decision: 'maybe', note: 'Hmm.' }, admin.accessToken)).status).toBe(400);
    const [row] = await t.dataSource.query('SELECT review_outcome, review_note FROM moderation_results WHERE id = $1', [decentRejection.id]);
    expect(row).toEqual({ review_outcome: 'passed', review_note: 'A false positive: the term is a product name.' });
  });

  it('flags accounts whose rejection rate passes the threshold; searches by email and name', async () => {
    const flagged = await http.get('/v1/admin/users?flagged=true', admin.accessToken);
    expect(flagged.status).toBe(200);
    expect(flagged.body.items.map((u: { id: string }) => u.id)).toEqual([offender.userId]);
    expect(flagged.body.items[0].moderation).toMatchObject({ rejections: 3, decisions: 4, rejectionRate: 0.75 });
    const byName = await http.get('/v1/admin/users?q=dora', admin.accessToken);
    expect(byName.body.items.map((u: { id: string }) => u.id)).toEqual([decent.userId]);
    expect(byName.body.items[0].flagged).toBe(false);
    const byEmail = await http.get(`/v1/admin/users?q=${encodeURIComponent(offender.email)}`, admin.accessToken);
    expect(byEmail.body.items.map((u: { id: string }) => u.id)).toEqual([offender.userId]);
    expect((await http.get('/v1/admin/users?q=%25', admin.accessToken)).body.items).toEqual([]);
  });

  it('suspending an account refuses it everywhere and stops its jobs; reinstating lets it back in', async () => {
    await topUp(http, offender.accessToken, '20');
    const billing = t.app.get(BillingService);
    const queuedId = newId();
    const hold = await billing.placeJobHold({ orgId: offender.orgId, jobId: queuedId, quoteUpperMicros: 2_000_000n, budgetCapMicros: null });
    const runningId = newId();
    await t.dataSource.manager.insert(Job, [
      { ...jobRow(queuedId, offender.orgId, offender.userId, 'queued', clock.now()), holdId: hold.holdId, holdMicros: hold.amountMicros },
      { ...jobRow(runningId, offender.orgId, offender.userId, 'running', new Date(clock.now().getTime() - 10 * MIN)), startedAt: clock.now() },
    ] as never);
    const offenderNode = await insertNode(t, offender.orgId, clock.now());
    const heldBefore = (await billing.balance(offender.orgId)).heldMicros;
    expect(heldBefore).toBe(2_000_000n);

    const suspended = await http.post(`/v1/admin/users/${offender.userId}/suspend`, { reason: 'Repeated uploads of prohibited content.' }, admin.accessToken);
    expect(suspended.status).toBe(200);
    expect(suspended.body.status).toBe('suspended');
    expect(suspended.body.stoppedJobIds.sort()).toEqual([queuedId, runningId].sort());

    const me = await http.get('/v1/me', offender.accessToken);
    expect(me.status).toBe(403);
    expect(me.body.code).toBe('account_suspended');
    expect((await http.get('/v1/jobs', offender.accessToken)).status).toBe(403);

    const jobs = await t.dataSource.query('SELECT id, status, cancel_requested_at FROM jobs WHERE org_id = $1', [offender.orgId]);
    const byId = new Map(jobs.map((j: { id: string }) => [j.id, j]));
    expect((byId.get(queuedId) as { status: string }).status).toBe('canceled');
    expect((byId.get(runningId) as { cancel_requested_at: Date | null }).cancel_requested_at).not.toBeNull();
    expect((await billing.balance(offender.orgId)).heldMicros).toBe(0n);
    // Its GPUs stop being offered.
    expect((await t.app.get(DbCommunityNodeSource).getNode(offenderNode))?.listed).toBe(false);

    expect((await http.post(`/v1/admin/users/${offender.userId}/suspend`, { reason: 'Again.' }, admin.accessToken)).status).toBe(409);
    const self = await http.post(`/v1/admin/users/${admin.userId}/suspend`, { reason: 'Oops.' }, admin.accessToken);
    expect(self.status).toBe(409);
    expect(self.body.code).toBe('cannot_suspend_self');
    expect((await http.post(`/v1/admin/users/${newId()}/suspend`, { reason: 'Nobody.' }, admin.accessToken)).status).toBe(404);

    const reinstated = await http.post(`/v1/admin/users/${offender.userId}/reinstate`, { note: 'Appeal accepted.' }, admin.accessToken);
    expect(reinstated.status).toBe(200);
    expect(reinstated.body.status).toBe('active');
    expect((await http.get('/v1/me', offender.accessToken)).status).toBe(200);
    expect((await t.app.get(DbCommunityNodeSource).getNode(offenderNode))?.listed).toBe(true);
    expect((await http.post(`/v1/admin/users/${offender.userId}/reinstate`, {}, admin.accessToken)).status).toBe(409);

    const emails = await t.dataSource.query('SELECT subject FROM email_outbox WHERE to_address = $1 ORDER BY created_at', [offender.email]);
    expect(emails.map((e: { subject: string }) => e.subject)).toEqual(expect.arrayContaining(['Anneal: your account is suspended', 'Anneal: your account is active again']));
  });

  it('a plain user cannot use the admin mutations; nothing changes', async () => {
    const routes: [string, string, unknown?][] = [
      ['POST', `/v1/admin/users/${decent.userId}/suspend`, { reason: 'Trying my luck.' }],
      ['POST', `/v1/admin/users/${decent.userId}/reinstate`, {}],
      ['POST', `/v1/admin/moderation/${newId()}/review`, { decision: 'uphold', note: 'Nope.' }],
      ['POST', `/v1/admin/nodes/${newId()}/quarantine`, { reason: 'Nope.' }],
    ];
    for (const [method, path, body] of routes) {
      expect((await http.request(method, path, { token: decent.accessToken, body })).status, `${method} ${path}`).toBe(403);
    }
    expect((await t.dataSource.query('SELECT status FROM users WHERE id = $1', [decent.userId]))[0].status).toBe('active');
  });

  it('the audit log filters by actor, action, target and time, pages by cursor, and every admin read is in it', async () => {
    const suspensions = await http.get(`/v1/admin/audit?action=admin.user_suspended&targetId=${offender.userId}`, admin.accessToken);
    expect(suspensions.body.items).toHaveLength(1);
    expect(suspensions.body.items[0]).toMatchObject({ actorUserId: admin.userId, targetType: 'user', details: { reason: 'Repeated uploads of prohibited content.' } });

    const reads = await http.get(`/v1/admin/audit?actor=${admin.userId}&action=admin.*`, admin.accessToken);
    const actions = new Set(reads.body.items.map((e: { action: string }) => e.action));
    for (const action of ['admin.moderation_listed', 'admin.users_listed', 'admin.user_suspended', 'admin.user_reinstated']) expect(actions.has(action), action).toBe(true);

    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/v1/admin/audit?actor=${admin.userId}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await http.get(query, admin.accessToken);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      all.push(...page.body.items.map((e: { id: string }) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBeGreaterThan(6);

    const future = new Date(clock.now().getTime() + 3_600_000).toISOString();
    expect((await http.get(`/v1/admin/audit?from=${future}`, admin.accessToken)).body.items).toEqual([]);
    expect((await http.get('/v1/admin/audit?from=yesterday', admin.accessToken)).status).toBe(400);
    expect((await http.get('/v1/admin/audit?cursor=junk', admin.accessToken)).status).toBe(400);
    const searches = await t.dataSource.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'admin.audit_searched' AND actor_user_id = $1", [admin.userId]);
    expect(searches[0].n).toBeGreaterThanOrEqual(4);
  });
});
