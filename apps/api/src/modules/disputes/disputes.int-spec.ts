import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../core/clock/clock.js';
import { topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type HttpClient, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';
import { BillingService } from '../billing/billing.service.js';
import { DbCommunityNodeSource } from '../nodes/community-node-source.js';
import { ReliabilityService } from '../nodes/reliability.service.js';
import { NodeStateEvent } from '../nodes/entities/node-state-event.entity.js';
import { NodeTelemetry } from '../nodes/entities/node-telemetry.entity.js';
import { DisputesService } from './disputes.service.js';
import { MIN, insertNode, seedEndedAttempt, signUpAdmin, type Account } from './testing/dispute-fixtures.js';

describe('disputes (real Postgres + NATS)', () => {
  const clock = new TestClock();
  let t: TestApp;
  let http: HttpClient;
  let customer: Account;
  let provider: Account;
  let stranger: Account;
  let admin: Account;
  let nodeId: string;
  let jobId: string;
  let attemptId: string;
  let disputeId: string;
  const T0 = new Date(Date.now() - 3 * 3_600_000);

  beforeAll(async () => {
    t = await startTestApp({ clock });
    http = t.http;
    [customer, provider, stranger] = [await signUp(http), await signUp(http), await signUp(http)];
    admin = await signUpAdmin(t, clock);
    await topUp(http, customer.accessToken, '50');
    nodeId = await insertNode(t, provider.orgId, new Date(T0.getTime() - 60 * MIN));
    // The node was online from before the run, went quiet 20 min into it and never came back.
    const lostAt = new Date(T0.getTime() + 20 * MIN);
    await t.dataSource.manager.insert(NodeStateEvent, [
      { id: newId(), nodeId, fromState: null, toState: 'online', at: new Date(T0.getTime() - 60 * MIN), reason: 'registered' },
      { id: newId(), nodeId, fromState: 'online', toState: 'suspect', at: lostAt, reason: 'missed_heartbeats' },
      { id: newId(), nodeId, fromState: 'suspect', toState: 'offline', at: new Date(lostAt.getTime() + 10_000), reason: 'heartbeat_timeout' },
    ] as never);
    await t.dataSource.query('UPDATE nodes SET last_heartbeat_at = $2 WHERE id = $1', [nodeId, lostAt]);
    await t.dataSource.manager.insert(
      NodeTelemetry,
      [0, 5, 10, 15].map((m) => ({ nodeId, at: new Date(T0.getTime() + m * MIN), gpus: [{ index: 0, gpuId: 'GPU-0', utilizationPct: 97, temperatureC: 71 + m / 5, powerW: 420, vramUsedMb: 20_000, vramTotalMb: 24_564 }], runningAttemptId: null })) as never,
    );
    ({ jobId, attemptId } = await seedEndedAttempt(t, { customerOrgId: customer.orgId, customerUserId: customer.userId, providerOrgId: provider.orgId, nodeId, runningAt: T0, endedAt: new Date(T0.getTime() + 31 * MIN), endReason: 'node_lost' }));
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('the settled attempt charged only up to the last heartbeat (20 min at $1/GPU-hour)', async () => {
    const [row] = await t.dataSource.query('SELECT billable_seconds, cost_micros::text AS cost FROM attempts WHERE id = $1', [attemptId]);
    expect(row).toEqual({ billable_seconds: 1200, cost: '333333' });
  });

  it('another org cannot open a dispute on the job: 404, nothing created', async () => {
    const response = await http.post('/v1/disputes', { jobId, reason: 'node_failed', description: 'Not my job but let me try anyway.' }, stranger.accessToken);
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('not_found');
    const foreignAttempt = await http.post('/v1/disputes', { jobId, attemptId, reason: 'node_failed', description: 'Not my job but let me try anyway.' }, provider.accessToken);
    expect(foreignAttempt.status).toBe(404);
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM disputes'))[0].n).toBe(0);
  });

  it('documents the routes in the OpenAPI description', async () => {
    const openapi = await http.get('/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/v1/disputes', '/v1/disputes/{id}', '/v1/disputes/{id}/respond', '/v1/admin/disputes/{id}/resolve', '/v1/admin/moderation/{id}/review', '/v1/admin/users/{id}/suspend', '/v1/admin/nodes/{id}/quarantine', '/v1/admin/audit']),
    );
  });

  it('refuses a bad reason with a field error', async () => {
    const response = await http.post('/v1/disputes', { jobId, reason: 'because', description: 'The node failed in the middle.' }, customer.accessToken);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation_failed');
  });

  it('opens a dispute with frozen evidence and suggests a full refund for a node lost mid-run', async () => {
    const response = await http.post('/v1/disputes', { jobId, reason: 'node_failed', description: 'The node vanished 20 minutes in and the job failed.' }, customer.accessToken);
    expect(response.status).toBe(201);
    disputeId = response.body.id;
    expect(response.body).toMatchObject({ status: 'open', attemptId, reason: 'node_failed', charged: { micros: '333333' } });
    expect(response.body.suggestion.outcome).toBe('full_refund');
    expect(response.body.suggestion.refund.micros).toBe('333333');
    expect(response.body.suggestion.reason).toBe('Node offline 11 min before completion: full refund of this attempt ($0.33) suggested.');
    const evidence = response.body.evidence;
    expect(evidence.heartbeats.gaps).toHaveLength(1);
    expect(evidence.heartbeats.offlineBeforeEndSeconds).toBe(660);
    expect(evidence.gpu).toMatchObject({ offeredModel: 'rtx-4090', reportedModelId: 'rtx-4090', reportedVramMb: 24_564, matches: true });
    expect(evidence.telemetry.summary).toMatchObject({ sampleCount: 4, utilizationPctMean: 97, powerWMean: 420 });
    expect(evidence.stepTime.measured.count).toBe(60);
    expect(evidence.stepTime.benchmark.p90Ms).toBeGreaterThan(0);
    expect(evidence.logs).toHaveLength(50);
    expect(evidence.logs.at(-1).line).toBe('step 60 loss 1.40');
    expect(evidence.events.map((e: { toStatus: string }) => e.toStatus)).toEqual(['running', 'failed']);
    expect(evidence.metering).toMatchObject({ billableSeconds: 1200, chargedMicros: '333333', providerShareMicros: '266667', platformFeeMicros: '66666' });
    expect(evidence.ledger.map((l: { code: string }) => l.code)).toEqual(expect.arrayContaining(['charge', 'provider_share', 'platform_fee']));

    // The provider is told (email outbox + audit).
    const emails = await t.dataSource.query('SELECT to_address, subject FROM email_outbox WHERE to_address = $1', [provider.email]);
    expect(emails.map((e: { subject: string }) => e.subject)).toContain('Anneal: A customer disputed an attempt on your node');
    const audit = await t.dataSource.query("SELECT action, org_id FROM audit_log WHERE target_id = $1 ORDER BY occurred_at", [disputeId]);
    expect(audit).toEqual(expect.arrayContaining([{ action: 'dispute.opened', org_id: customer.orgId }, { action: 'dispute.provider_notified', org_id: provider.orgId }]));
  });

  it('the evidence is frozen: later telemetry does not change it', async () => {
    await t.dataSource.manager.insert(NodeTelemetry, { nodeId, at: new Date(T0.getTime() + 16 * MIN), gpus: [{ index: 0, utilizationPct: 0, temperatureC: 99, powerW: 1 }], runningAttemptId: null } as never);
    const response = await http.get(`/v1/disputes/${disputeId}`, customer.accessToken);
    expect(response.body.evidence.telemetry.summary.sampleCount).toBe(4);
  });

  it('one dispute per attempt: a second is 409', async () => {
    const again = await http.post('/v1/disputes', { jobId, attemptId, reason: 'billed_wrongly', description: 'And also I was billed wrongly.' }, customer.accessToken);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('dispute_exists');
    expect(again.body.details.disputeId).toBe(disputeId);
  });

  it('both sides see it; nobody else does', async () => {
    const mine = await http.get('/v1/disputes', customer.accessToken);
    expect(mine.body.items.map((d: { id: string; role: string }) => [d.id, d.role])).toEqual([[disputeId, 'customer']]);
    const theirs = await http.get('/v1/disputes', provider.accessToken);
    expect(theirs.body.items.map((d: { id: string; role: string }) => [d.id, d.role])).toEqual([[disputeId, 'provider']]);
    const providerView = await http.get(`/v1/disputes/${disputeId}`, provider.accessToken);
    expect(providerView.status).toBe(200);
    expect(providerView.body.evidence.logs).toEqual([]);
    expect(providerView.body.customerOrgId).toBeUndefined();
    expect((await http.get('/v1/disputes', stranger.accessToken)).body.items).toEqual([]);
    expect((await http.get(`/v1/disputes/${disputeId}`, stranger.accessToken)).status).toBe(404);
  });

  it('the provider answers once; the customer cannot answer for it', async () => {
    const byCustomer = await http.post(`/v1/disputes/${disputeId}/respond`, { statement: 'I am the provider, honestly.' }, customer.accessToken);
    expect(byCustomer.status).toBe(403);
    const byStranger = await http.post(`/v1/disputes/${disputeId}/respond`, { statement: 'I am the provider, honestly.' }, stranger.accessToken);
    expect(byStranger.status).toBe(404);
    const answer = await http.post(`/v1/disputes/${disputeId}/respond`, { statement: 'A power cut took the host down; sorry.' }, provider.accessToken);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'answered', providerStatement: 'A power cut took the host down; sorry.' });
    const twice = await http.post(`/v1/disputes/${disputeId}/respond`, { statement: 'Actually, it was the customer.' }, provider.accessToken);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('dispute_already_answered');
    expect((await http.get(`/v1/disputes/${disputeId}`, customer.accessToken)).body.providerStatement).toBe('A power cut took the host down; sorry.');
  });

  it('refuses non-admins, and admins without 2FA, on every admin route', async () => {
    const noTwoFactor = await signUp(http);
    await t.dataSource.query('UPDATE users SET is_admin = true WHERE id = $1', [noTwoFactor.userId]);
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/admin/disputes'],
      ['GET', `/v1/admin/disputes/${disputeId}`],
      ['POST', `/v1/admin/disputes/${disputeId}/resolve`, { resolution: 'full_refund', note: 'Refund it all.' }],
      ['GET', '/v1/admin/moderation'],
      ['GET', '/v1/admin/users'],
      ['GET', '/v1/admin/nodes'],
      ['GET', '/v1/admin/audit'],
    ];
    for (const [method, path, body] of routes) {
      const asProvider = await http.request(method, path, { token: provider.accessToken, body });
      expect(asProvider.status, `${method} ${path}`).toBe(403);
      const withoutTwoFactor = await http.request(method, path, { token: noTwoFactor.accessToken, body });
      expect(withoutTwoFactor.status, `${method} ${path}`).toBe(403);
      expect(withoutTwoFactor.body.code).toBe('two_factor_required');
    }
    expect((await t.dataSource.query('SELECT status FROM disputes WHERE id = $1', [disputeId]))[0].status).toBe('answered');
  });

  it('an admin sees the queue and the evidence (reads audited)', async () => {
    const queue = await http.get('/v1/admin/disputes?status=unresolved&reason=node_failed', admin.accessToken);
    expect(queue.status).toBe(200);
    expect(queue.body.items.map((d: { id: string }) => d.id)).toEqual([disputeId]);
    expect(queue.body.items[0].suggestion.outcome).toBe('full_refund');
    expect((await http.get('/v1/admin/disputes?reason=wrong_gpu', admin.accessToken)).body.items).toEqual([]);
    expect((await http.get('/v1/admin/disputes?status=nonsense', admin.accessToken)).status).toBe(400);
    const detail = await http.get(`/v1/admin/disputes/${disputeId}`, admin.accessToken);
    expect(detail.body.evidence.logs).toHaveLength(50);
    const reads = await t.dataSource.query("SELECT action FROM audit_log WHERE actor_user_id = $1 AND action IN ('admin.disputes_listed', 'admin.dispute_viewed')", [admin.userId]);
    expect(reads.length).toBeGreaterThanOrEqual(3);
  });

  it('resolving with a full refund moves exactly the refund; the ledger still balances; quarantine and penalty apply; audited', async () => {
    const billing = t.app.get(BillingService);
    const customerBefore = await billing.balance(customer.orgId);
    const providerBefore = await billing.store.getProviderBalance(provider.orgId);
    expect(providerBefore.payableMicros).toBe(266_667n);
    const nodesBefore = await t.app.get(DbCommunityNodeSource).getNode(nodeId);
    expect(nodesBefore?.listed).toBe(true);

    const tooMuch = await http.post(`/v1/admin/disputes/${disputeId}/resolve`, { resolution: 'partial_refund', refundMicros: '333334', note: 'More than charged.' }, admin.accessToken);
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.code).toBe('refund_exceeds_charge');

    const resolved = await http.post(
      `/v1/admin/disputes/${disputeId}/resolve`,
      { resolution: 'full_refund', note: 'Node lost 11 minutes before the end; refunding the attempt.', reliabilityPenalty: 0.25, quarantineNode: true },
      admin.accessToken,
    );
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolution: 'full_refund', refund: { micros: '333333' }, refundFromProvider: { micros: '266667' }, refundFromPlatform: { micros: '66666' }, receivable: { micros: '0' } });

    const customerAfter = await billing.balance(customer.orgId);
    expect(customerAfter.availableMicros - customerBefore.availableMicros).toBe(333_333n);
    expect(customerAfter.heldMicros).toBe(customerBefore.heldMicros);
    const providerAfter = await billing.store.getProviderBalance(provider.orgId);
    expect(providerBefore.payableMicros - providerAfter.payableMicros).toBe(266_667n);
    expect(await billing.store.checkInvariants()).toEqual([]);
    const refundLines = await t.dataSource.query("SELECT code, amount::text AS amount FROM ledger_transfers WHERE dispute_id = $1 ORDER BY amount::bigint DESC", [disputeId]);
    expect(refundLines).toEqual([
      { code: 'dispute_resolution', amount: '266667' },
      { code: 'dispute_resolution', amount: '66666' },
    ]);

    // The customer's statement shows the refund line.
    const statement = await http.get('/v1/billing/transactions', customer.accessToken);
    expect(statement.body.lines.some((l: { type: string; disputeId: string }) => l.type === 'dispute_resolution' && l.disputeId === disputeId)).toBe(true);

    // Consequences: the node makes no offers; its reliability carries the penalty.
    expect((await t.app.get(DbCommunityNodeSource).getNode(nodeId))?.listed).toBe(false);
    const [node] = await t.dataSource.query('SELECT quarantined_at, reliability_penalty FROM nodes WHERE id = $1', [nodeId]);
    expect(node.quarantined_at).not.toBeNull();
    expect(node.reliability_penalty).toBe(0.25);
    // The penalty scales the node's job-outcome factor (a fresh node without attempts: 1 → 1 − penalty).
    const fresh = await insertNode(t, provider.orgId, new Date(T0.getTime() - 60 * MIN));
    const reliability = t.app.get(ReliabilityService);
    reliability.invalidate();
    expect((await reliability.forNode(fresh)).jobCompletion).toBe(1);
    await t.dataSource.query('UPDATE nodes SET reliability_penalty = 0.25 WHERE id = $1', [fresh]);
    reliability.invalidate();
    expect((await reliability.forNode(fresh)).jobCompletion).toBe(0.75);
    await t.dataSource.query('UPDATE nodes SET deleted_at = now() WHERE id = $1', [fresh]);

    // Who did what, in the audit log, through the admin API.
    const audit = await http.get(`/v1/admin/audit?targetId=${disputeId}&action=dispute.*`, admin.accessToken);
    expect(audit.status).toBe(200);
    const actions = audit.body.items.map((e: { action: string; actorUserId: string | null }) => [e.action, e.actorUserId]);
    expect(actions).toEqual(expect.arrayContaining([['dispute.resolved', admin.userId], ['dispute.refunded', admin.userId], ['dispute.opened', customer.userId]]));
    const nodeAudit = await http.get(`/v1/admin/audit?targetType=node&targetId=${nodeId}`, admin.accessToken);
    expect(nodeAudit.body.items.map((e: { action: string }) => e.action).sort()).toEqual(['node.quarantined', 'node.reliability_penalized']);

    // Both parties are told.
    const subjects = await t.dataSource.query("SELECT to_address, subject FROM email_outbox WHERE subject LIKE '%resolved%'");
    expect(subjects).toEqual(
      expect.arrayContaining([
        { to_address: customer.email, subject: 'Anneal: Your dispute was resolved' },
        { to_address: provider.email, subject: 'Anneal: A dispute on your node was resolved' },
      ]),
    );
    expect((await http.get(`/v1/disputes/${disputeId}`, customer.accessToken)).body).toMatchObject({ status: 'resolved', resolution: 'full_refund' });
  });

  it('a resolved dispute cannot be resolved again, and nothing moves', async () => {
    const billing = t.app.get(BillingService);
    const before = await billing.balance(customer.orgId);
    const again = await http.post(`/v1/admin/disputes/${disputeId}/resolve`, { resolution: 'rejected', note: 'Changed my mind.' }, admin.accessToken);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('dispute_already_resolved');
    expect(await billing.balance(customer.orgId)).toEqual(before);
    const answer = await http.post(`/v1/disputes/${disputeId}/respond`, { statement: 'Too late to say anything.' }, provider.accessToken);
    expect(answer.status).toBe(409);
  });

  it('an admin releases the quarantined node and it offers again', async () => {
    const list = await http.get('/v1/admin/nodes?quarantined=true', admin.accessToken);
    expect(list.body.items.map((n: { id: string }) => n.id)).toEqual([nodeId]);
    const released = await http.post(`/v1/admin/nodes/${nodeId}/release`, { note: 'Provider fixed the power supply.' }, admin.accessToken);
    expect(released.status).toBe(200);
    expect(released.body.quarantinedAt).toBeNull();
    expect((await t.app.get(DbCommunityNodeSource).getNode(nodeId))?.listed).toBe(true);
    expect((await http.post(`/v1/admin/nodes/${nodeId}/release`, {}, admin.accessToken)).status).toBe(409);
    const again = await http.post(`/v1/admin/nodes/${nodeId}/quarantine`, { reason: 'Second incident.' }, admin.accessToken);
    expect(again.status).toBe(200);
    expect((await t.app.get(DbCommunityNodeSource).getNode(nodeId))?.listed).toBe(false);
  });

  it('a dispute past the window is refused (422)', async () => {
    const old = await seedEndedAttempt(t, {
      customerOrgId: customer.orgId,
      customerUserId: customer.userId,
      providerOrgId: provider.orgId,
      nodeId,
      runningAt: new Date(clock.now().getTime() - 20 * 86_400_000),
      endedAt: new Date(clock.now().getTime() - 20 * 86_400_000 + 30 * MIN),
      endReason: 'completed',
    });
    const response = await http.post('/v1/disputes', { jobId: old.jobId, reason: 'other', description: 'This was a while ago but still.' }, customer.accessToken);
    expect(response.status).toBe(422);
    expect(response.body.code).toBe('dispute_window_closed');
  });

  it('a refund after the provider was paid out comes from the platform; the receivable is recovered from later earnings', async () => {
    const billing = t.app.get(BillingService);
    // The node came back (online again) before this run.
    await t.dataSource.manager.insert(NodeStateEvent, { id: newId(), nodeId, fromState: 'offline', toState: 'online', at: new Date(clock.now().getTime() - 2 * 3_600_000 - 5 * MIN), reason: 'heartbeat' } as never);
    const paid = await seedEndedAttempt(t, {
      customerOrgId: customer.orgId,
      customerUserId: customer.userId,
      providerOrgId: provider.orgId,
      nodeId,
      runningAt: new Date(clock.now().getTime() - 2 * 3_600_000),
      endedAt: new Date(clock.now().getTime() - 3_600_000),
      endReason: 'completed',
      stepTimeMs: 120_000,
    });
    // The provider's whole payable ($0.80 of the $1.00 charge) is paid out.
    const payout = await billing.store.createPayout({ providerOrgId: provider.orgId, payoutId: newId(), now: clock.now(), disputeWindowMs: 0, minimumPayoutMicros: 1n });
    expect(payout.kind).toBe('payout');
    expect((await billing.store.getProviderBalance(provider.orgId)).payableMicros).toBe(0n);

    const opened = await http.post('/v1/disputes', { jobId: paid.jobId, reason: 'slower_than_offered', description: 'Steps took ten times longer than quoted.' }, customer.accessToken);
    expect(opened.status).toBe(201);
    expect(opened.body.charged.micros).toBe('1000000');
    expect(opened.body.suggestion.outcome, opened.body.suggestion.reason).toBe('partial_refund');
    expect(opened.body.suggestion.reason).toMatch(/^Step time .*× the benchmark p90/);
    const customerBefore = await billing.balance(customer.orgId);
    const resolved = await http.post(`/v1/admin/disputes/${opened.body.id}/resolve`, { resolution: 'partial_refund', refundUsd: '0.50', note: 'Half the run was wasted.' }, admin.accessToken);
    expect(resolved.status).toBe(200);
    // Provider part 0.40 (its 80% share) advanced by the platform with the 0.10 fee part.
    expect(resolved.body).toMatchObject({ refund: { micros: '500000' }, refundFromProvider: { micros: '0' }, refundFromPlatform: { micros: '500000' }, receivable: { micros: '400000' } });
    expect((await billing.balance(customer.orgId)).availableMicros - customerBefore.availableMicros).toBe(500_000n);
    expect(await billing.store.checkInvariants()).toEqual([]);

    // Later earnings: another attempt pays the provider $0.80; the receivable takes $0.40 of it.
    await seedEndedAttempt(t, {
      customerOrgId: customer.orgId,
      customerUserId: customer.userId,
      providerOrgId: provider.orgId,
      nodeId,
      runningAt: new Date(clock.now().getTime() - 2 * 3_600_000),
      endedAt: new Date(clock.now().getTime() - 3_600_000),
      endReason: 'completed',
    });
    expect((await billing.store.getProviderBalance(provider.orgId)).payableMicros).toBe(800_000n);
    expect(await t.app.get(DisputesService).recoverReceivables()).toBe(1);
    expect((await billing.store.getProviderBalance(provider.orgId)).payableMicros).toBe(400_000n);
    const [receivable] = await t.dataSource.query('SELECT recovered_micros::text AS recovered, settled_at FROM provider_receivables WHERE dispute_id = $1', [opened.body.id]);
    expect(receivable.recovered).toBe('400000');
    expect(receivable.settled_at).not.toBeNull();
    expect(await t.app.get(DisputesService).recoverReceivables()).toBe(0);
    expect(await billing.store.checkInvariants()).toEqual([]);
  });
  it('a resolution retried after its refund reached the ledger moves the money once', async () => {
    const billing = t.app.get(BillingService);
    const seeded = await seedEndedAttempt(t, {
      customerOrgId: customer.orgId,
      customerUserId: customer.userId,
      providerOrgId: provider.orgId,
      nodeId,
      runningAt: new Date(clock.now().getTime() - 2 * 3_600_000),
      endedAt: new Date(clock.now().getTime() - 3_600_000),
      endReason: 'completed',
    });
    const opened = await http.post('/v1/disputes', { jobId: seeded.jobId, reason: 'billed_wrongly', description: 'I was billed for an hour I did not use.' }, customer.accessToken);
    expect(opened.status).toBe(201);
    const id: string = opened.body.id;
    const before = await billing.balance(customer.orgId);
    // A crashed first try: the correcting transfers were applied, the dispute row was not updated.
    await billing.refund({ orgId: customer.orgId, refundId: id, code: 'dispute_resolution', disputeId: id, jobId: seeded.jobId, attemptId: seeded.attemptId, fromProvider: { providerOrgId: provider.orgId, amountMicros: 800_000n }, fromPlatformMicros: 200_000n });
    const resolved = await http.post(`/v1/admin/disputes/${id}/resolve`, { resolution: 'full_refund', note: 'Billing error confirmed.' }, admin.accessToken);
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ refund: { micros: '1000000' }, refundFromProvider: { micros: '800000' }, refundFromPlatform: { micros: '200000' } });
    expect((await billing.balance(customer.orgId)).availableMicros - before.availableMicros).toBe(1_000_000n);
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM ledger_transfers WHERE dispute_id = $1', [id]))[0].n).toBe(2);
    expect(await billing.store.checkInvariants()).toEqual([]);
  });
});
