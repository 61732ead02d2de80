import { attemptEventSchema, attemptEventsSubject, createNodeKeys, encodeSignedMessage, type AttemptEvent } from '@anneal/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../core/clock/clock.js';
import { topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { BillingService } from '../billing/billing.service.js';
import { insertNode, jobRow, MIN } from '../disputes/testing/dispute-fixtures.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { AttemptLifecycle } from './attempt-lifecycle.service.js';
import { COMPUTE_PORT, type ComputePort } from './jobs.ports.js';
import { Attempt } from './entities/attempt.entity.js';
import { Job } from './entities/job.entity.js';
import type { EndReason, JobStatus } from './job-state.js';

/** 1 GPU at $1/GPU-hour for 10 minutes. */
const PRICE = 1_000_000n;
const RAN_MS = 10 * MIN;
const COST = (PRICE * 600n) / 3600n;

describe('ending and settling attempts in batches (real Postgres, NATS)', () => {
  let t: TestApp;
  let customer: Awaited<ReturnType<typeof signUp>>;
  let providerOrgId: string;
  let lifecycle: AttemptLifecycle;
  let billing: BillingService;

  beforeAll(async () => {
    t = await startTestApp();
    customer = await signUp(t.http);
    providerOrgId = (await signUp(t.http)).orgId;
    await topUp(t.http, customer.accessToken, '100.00');
    lifecycle = t.app.get(AttemptLifecycle);
    billing = t.app.get(BillingService);
  });

  afterAll(() => t?.close());

  /** A job in `status` with a real hold, and its attempts (each on its own node, reserved while live). */
  async function seedJob(input: { status: JobStatus; budgetCapMicros: bigint | null; attempts: { live: boolean; endReason?: EndReason; endedAgoMs?: number }[] }) {
    const now = Date.now();
    const jobId = newId();
    const hold = await billing.placeJobHold({ orgId: customer.orgId, jobId, quoteUpperMicros: 5_000_000n, budgetCapMicros: input.budgetCapMicros });
    await t.dataSource.manager.insert(Job, {
      ...jobRow(jobId, customer.orgId, customer.userId, input.status, new Date(now - 2 * RAN_MS)),
      budgetCapMicros: input.budgetCapMicros,
      holdMicros: hold.amountMicros,
      holdId: hold.holdId,
    } as never);
    const attempts: { id: string; nodeId: string }[] = [];
    for (const [i, spec] of input.attempts.entries()) {
      const nodeId = await insertNode(t, providerOrgId, new Date(now - 2 * RAN_MS));
      const id = newId();
      const endedAt = spec.live ? null : new Date(now - (spec.endedAgoMs ?? 0));
      const runningAt = new Date((endedAt?.getTime() ?? now) - RAN_MS);
      await t.dataSource.manager.insert(Attempt, {
        id,
        jobId,
        orgId: customer.orgId,
        number: i + 1,
        providerKind: 'community',
        offerId: `community:${nodeId}`,
        nodeId,
        providerOrgId,
        instanceId: `${nodeId}/${id}`,
        gpuModel: 'rtx-4090',
        gpuCount: 1,
        priceMicrosPerGpuHour: PRICE,
        status: spec.live ? 'running' : 'ended',
        endReason: spec.live ? null : (spec.endReason ?? 'completed'),
        attemptTokenHash: `token-${id}`,
        createdAt: new Date(runningAt.getTime() - MIN),
        runningAt,
        endedAt,
        lastSeenAt: endedAt ?? new Date(now),
        billableSeconds: null,
        costMicros: 0n,
        lastEventSeq: 0,
      } as never);
      if (spec.live) await t.dataSource.query('UPDATE nodes SET reserved_for_attempt_id = $2 WHERE id = $1', [nodeId, id]);
      attempts.push({ id, nodeId });
    }
    return { jobId, attempts };
  }

  function finished(attempt: { id: string; nodeId: string }): AttemptEvent {
    return attemptEventSchema.parse({
      schemaVersion: 1,
      attemptId: attempt.id,
      nodeId: attempt.nodeId,
      eventSeq: 9,
      at: new Date().toISOString(),
      type: 'finished',
      exitReason: 'completed',
      cancelReason: null,
      message: null,
      finalMetrics: { steps: 100, loss: 0.4, stepTimeMsMean: 6000, durationS: 600 },
      artifactKeys: [],
    });
  }

  /** What must not move when an event is applied again. */
  async function ledgerAndJobs(jobIds: string[]) {
    const [row] = await t.dataSource.query(
      `SELECT (SELECT count(*)::int FROM ledger_transfers) AS transfers, (SELECT count(*)::int FROM ledger_usage_records) AS usages,
              (SELECT count(*)::int FROM job_events WHERE job_id = ANY($1::uuid[])) AS events,
              (SELECT json_agg(json_build_object('id', id, 'status', status, 'cost', cost_micros::text, 'hold', hold_id) ORDER BY id) FROM jobs WHERE id = ANY($1::uuid[])) AS jobs`,
      [jobIds],
    );
    return { ...row, balance: await billing.balance(customer.orgId) };
  }

  it('ends the attempts that finish in one tick together: each job moved, each node freed, each attempt settled exactly once; a redelivery changes nothing', async () => {
    const before = await billing.balance(customer.orgId);
    const capped = 100_000n;
    const seeded = await Promise.all(Array.from({ length: 12 }, (_, i) => seedJob({ status: 'running', budgetCapMicros: i % 3 === 0 ? capped : null, attempts: [{ live: true }] })));
    const jobIds = seeded.map((s) => s.jobId);
    const attemptIds = seeded.map((s) => s.attempts[0]!.id);

    // All in the same tick, as the consumer applies the events it holds.
    await Promise.all(seeded.map((s) => lifecycle.handle(finished(s.attempts[0]!))));

    const attempts: { id: string; status: string; end_reason: string; cost_micros: string; billable_seconds: number | null }[] = await t.dataSource.query(
      'SELECT id, status, end_reason, cost_micros, billable_seconds FROM attempts WHERE id = ANY($1::uuid[])',
      [attemptIds],
    );
    expect(attempts).toHaveLength(12);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ status: 'ended', end_reason: 'completed' });
      expect(attempt.billable_seconds).toBeGreaterThanOrEqual(600);
    }
    const jobs: { id: string; status: string; cost_micros: string; budget_cap_micros: string | null; finished_at: Date | null }[] = await t.dataSource.query(
      'SELECT id, status, cost_micros, budget_cap_micros, finished_at FROM jobs WHERE id = ANY($1::uuid[])',
      [jobIds],
    );
    let charged = 0n;
    for (const job of jobs) {
      expect(job.status).toBe('succeeded');
      expect(job.finished_at).not.toBeNull();
      const cost = BigInt(job.cost_micros);
      // Never past the budget cap: a capped job is charged the cap, the others what they ran.
      if (job.budget_cap_micros !== null) expect(cost).toBe(capped);
      else expect(cost).toBeGreaterThanOrEqual(COST);
      charged += cost;
    }
    const reserved = await t.dataSource.query('SELECT id FROM nodes WHERE id = ANY($1::uuid[]) AND reserved_for_attempt_id IS NOT NULL', [seeded.map((s) => s.attempts[0]!.nodeId)]);
    expect(reserved).toEqual([]);

    // Exactly one usage record and one charge per attempt; the holds are gone; the ledger balances.
    const [{ usages }] = await t.dataSource.query('SELECT count(*)::int AS usages FROM ledger_usage_records WHERE attempt_id = ANY($1::uuid[])', [attemptIds]);
    expect(usages).toBe(12);
    const charges: { n: number }[] = await t.dataSource.query("SELECT count(*)::int AS n FROM ledger_transfers WHERE code = 'charge' AND attempt_id = ANY($1::uuid[]) GROUP BY attempt_id", [attemptIds]);
    expect(charges.map((c) => c.n)).toEqual(Array(12).fill(1));
    const after = await billing.balance(customer.orgId);
    expect(after.heldMicros).toBe(before.heldMicros);
    expect(before.availableMicros - after.availableMicros).toBe(charged);
    expect(await billing.store.checkInvariants()).toEqual([]);

    // The same events again (JetStream redelivery): nothing moves.
    const settledState = await ledgerAndJobs(jobIds);
    await Promise.all(seeded.map((s) => lifecycle.handle(finished(s.attempts[0]!))));
    await lifecycle.settleMany(attemptIds);
    expect(await ledgerAndJobs(jobIds)).toEqual(settledState);
  });

  it("settles a job's attempts one after another in one call: the second against the first's new hold and what is left of the cap", async () => {
    const cap = 250_000n;
    const { jobId, attempts } = await seedJob({
      status: 'queued',
      budgetCapMicros: cap,
      attempts: [
        { live: false, endReason: 'preempted', endedAgoMs: 3 * MIN },
        { live: false, endReason: 'preempted', endedAgoMs: MIN },
      ],
    });
    const [first, second] = attempts;
    const failures = await lifecycle.settleMany([second!.id, first!.id]);
    expect([...failures]).toEqual([]);

    const rows: { id: string; cost_micros: string }[] = await t.dataSource.query('SELECT id, cost_micros FROM attempts WHERE job_id = $1', [jobId]);
    const cost = new Map(rows.map((row) => [row.id, BigInt(row.cost_micros)]));
    expect(cost.get(first!.id)).toBe(COST);
    expect(cost.get(second!.id)).toBe(cap - COST);
    const [job] = await t.dataSource.query('SELECT cost_micros, hold_id FROM jobs WHERE id = $1', [jobId]);
    expect(BigInt(job.cost_micros)).toBe(cap);
    // The first attempt's remainder was held again for the job (it goes on); the second was charged
    // against that hold, which the cap then used up entirely.
    const [hold] = await billing.store.lookupTransfers([job.hold_id]);
    expect(hold).toMatchObject({ code: 'hold', amount: cap - COST });
    expect(await billing.store.pendingStatus(job.hold_id)).toBe('posted');
    expect(await billing.balance(customer.orgId).then((b) => b.heldMicros)).toBe(0n);
    expect(await billing.store.checkInvariants()).toEqual([]);
  });
  it('opens an attempt event only when its node signed it for that attempt and it is a valid event; a message seen twice opens twice', async () => {
    const compute = t.app.get<ComputePort>(COMPUTE_PORT);
    const prefix = t.app.get(NatsService).prefix;
    const keys = createNodeKeys();
    const nodeId = await insertNode(t, providerOrgId, new Date());
    await t.dataSource.query('UPDATE nodes SET public_key = $2 WHERE id = $1', [nodeId, keys.publicKey]);
    const attemptId = newId();
    const subject = attemptEventsSubject(prefix, attemptId);
    const accepted = { schemaVersion: 1, type: 'accepted', attemptId, nodeId, eventSeq: 0, at: new Date().toISOString() };
    const data = encodeSignedMessage(keys.seed, subject, accepted);

    expect(await compute.openAttemptEvent(subject, data)).toEqual({ ok: true, event: accepted });
    // The same message again (the provider adapter saw it first, then the consumer): the same answer.
    expect(await compute.openAttemptEvent(subject, new Uint8Array(data))).toEqual({ ok: true, event: accepted });
    // An unknown key, a node speaking for another node, an event that is not one, a changed byte.
    const stranger = createNodeKeys();
    expect(await compute.openAttemptEvent(subject, encodeSignedMessage(stranger.seed, subject, accepted))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await compute.openAttemptEvent(subject, encodeSignedMessage(keys.seed, subject, { ...accepted, nodeId: newId() }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await compute.openAttemptEvent(subject, encodeSignedMessage(keys.seed, subject, { ...accepted, type: 'teleported' }))).toEqual({ ok: false, reason: 'invalid_payload' });
    const changed = new TextEncoder().encode(new TextDecoder().decode(data).replace('"eventSeq":0', '"eventSeq":1'));
    expect(await compute.openAttemptEvent(subject, changed)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
