import { generate } from 'otplib';
import { accountIdFor, creditBalance, jobHoldId, signWebhookPayload, type PgLedgerStore, type TestPaymentProcessor } from '@anneal/billing';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';
import { BillingScheduler } from './billing.scheduler.js';
import { BillingService } from './billing.service.js';
import { LEDGER_STORE, PAYMENT_PROCESSOR, PAYMENT_SIGNATURE_HEADER } from './ledger.provider.js';

const WEBHOOK_SECRET = 'whsec_test_0123456789abcdef';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

describe('billing (real Postgres + NATS)', () => {
  const clock = new TestClock();
  let t: TestApp;
  let billing: BillingService;
  let store: PgLedgerStore;
  let processor: TestPaymentProcessor;
  let scheduler: BillingScheduler;
  let customer: Awaited<ReturnType<typeof signUp>>;
  let other: Awaited<ReturnType<typeof signUp>>;
  let provider: Awaited<ReturnType<typeof signUp>>;
  let startedAt: Date;

  beforeAll(async () => {
    t = await startTestApp({ clock, overrides: { PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET, PAYOUT_MINIMUM_USD: '2', PLATFORM_FEE_BPS: '2000' } });
    billing = t.app.get(BillingService);
    store = t.app.get(LEDGER_STORE);
    processor = t.app.get(PAYMENT_PROCESSOR);
    scheduler = t.app.get(BillingScheduler);
    [customer, other, provider] = [await signUp(t.http), await signUp(t.http), await signUp(t.http)];
    startedAt = clock.now();
  });

  afterAll(async () => {
    await t?.close();
  });

  const balanceOf = async (token: string) => (await t.http.get('/v1/billing/balance', token)).body;
  const count = async (sql: string, params: unknown[] = []) => Number((await t.dataSource.query(sql, params))[0].n);

  async function startTopUp(token: string, body: Record<string, unknown>) {
    const response = await t.http.post('/v1/billing/top-ups', body, token);
    expect(response.status).toBe(201);
    return response.body;
  }

  /** Access tokens live 15 minutes: after the clock jumps days, sign in again. */
  async function signInAgain(...users: { email: string; password: string; accessToken: string }[]) {
    for (const user of users) {
      const response = await t.http.post('/v1/auth/login', { email: user.email, password: user.password });
      expect(response.status).toBe(200);
      user.accessToken = response.body.accessToken;
    }
  }

  function deliver(rawBody: string, signature: string) {
    return t.http.request('POST', '/v1/webhooks/payments', { rawBody, headers: { [PAYMENT_SIGNATURE_HEADER]: signature } });
  }

  describe('top-ups', () => {
    it('credits the balance when the signed webhook arrives, and only then', async () => {
      const intent = await startTopUp(customer.accessToken, { amountUsd: '50.00' });
      expect(intent).toMatchObject({ status: 'pending', amount: { micros: '50000000', usd: '$50.00' }, processor: 'test' });
      expect(intent.simulatePaymentUrl).toBe(`/v1/billing/top-ups/${intent.id}/simulate-payment`);
      expect((await balanceOf(customer.accessToken)).available.micros).toBe('0');

      const webhook = processor.completeTopUp(intent.paymentId, clock.now());
      const delivered = await deliver(webhook.rawBody, webhook.signatureHeader);
      expect(delivered.status).toBe(200);
      expect(delivered.body).toEqual({ received: true, duplicate: false });
      const balance = await balanceOf(customer.accessToken);
      expect(balance.available).toEqual({ micros: '50000000', usd: '$50.00' });
      expect(balance.held.micros).toBe('0');
      expect((await t.http.get(`/v1/billing/top-ups/${intent.id}`, customer.accessToken)).body.status).toBe('succeeded');
      const list = await t.http.get('/v1/billing/top-ups', customer.accessToken);
      expect(list.body.topUps.map((x: any) => x.id)).toEqual([intent.id]);
      expect((await t.http.get('/v1/billing/top-ups', other.accessToken)).body.topUps).toEqual([]);
    });

    it('refuses a bad signature with 400 and changes nothing', async () => {
      const intent = await startTopUp(customer.accessToken, { amountMicros: '7000000' });
      const webhook = processor.completeTopUp(intent.paymentId, clock.now());
      const before = await balanceOf(customer.accessToken);
      const events = await count('SELECT count(*) AS n FROM ledger_payment_events');

      const forged = signWebhookPayload(webhook.rawBody, 'not-the-secret-at-all-123', clock.now());
      const bad = await deliver(webhook.rawBody, forged);
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('webhook_signature_mismatch');
      const tampered = await deliver(webhook.rawBody.replace('7000000', '9000000'), webhook.signatureHeader);
      expect(tampered.status).toBe(400);
      const missing = await deliver(webhook.rawBody, '');
      expect(missing.status).toBe(400);
      const notJson = await t.http.request('POST', '/v1/webhooks/payments', {
        rawBody: webhook.rawBody,
        headers: { 'content-type': 'text/plain', [PAYMENT_SIGNATURE_HEADER]: webhook.signatureHeader },
      });
      expect(notJson.status).toBe(400);

      expect(await balanceOf(customer.accessToken)).toEqual(before);
      expect(await count('SELECT count(*) AS n FROM ledger_payment_events')).toBe(events);
      expect((await t.http.get(`/v1/billing/top-ups/${intent.id}`, customer.accessToken)).body.status).toBe('pending');
    });

    it('refuses a stale timestamp with 400', async () => {
      const intent = await startTopUp(customer.accessToken, { amountUsd: 5 });
      const webhook = processor.completeTopUp(intent.paymentId, clock.now());
      const stale = signWebhookPayload(webhook.rawBody, WEBHOOK_SECRET, new Date(clock.now().getTime() - 10 * 60_000));
      const before = await balanceOf(customer.accessToken);
      const response = await deliver(webhook.rawBody, stale);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('webhook_timestamp_out_of_tolerance');
      expect(await balanceOf(customer.accessToken)).toEqual(before);
    });

    it('treats a duplicate event id as a no-op', async () => {
      const intent = await startTopUp(other.accessToken, { amountUsd: '12.34' });
      const webhook = processor.completeTopUp(intent.paymentId, clock.now());
      expect((await deliver(webhook.rawBody, webhook.signatureHeader)).body.duplicate).toBe(false);
      const again = await deliver(webhook.rawBody, signWebhookPayload(webhook.rawBody, WEBHOOK_SECRET, clock.now()));
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ received: true, duplicate: true });
      // Another event for the same payment credits nothing more either (the transfer derives from the payment).
      const second = processor.completeTopUp(intent.paymentId, clock.now());
      expect((await deliver(second.rawBody, second.signatureHeader)).status).toBe(200);
      expect((await balanceOf(other.accessToken)).available.micros).toBe('12340000');
    });

    it('credits once when the processor delivers the same event several times at once', async () => {
      const intent = await startTopUp(other.accessToken, { amountUsd: '2' });
      const before = BigInt((await balanceOf(other.accessToken)).available.micros);
      const webhook = processor.completeTopUp(intent.paymentId, clock.now());
      const responses = await Promise.all(Array.from({ length: 6 }, () => deliver(webhook.rawBody, webhook.signatureHeader)));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(responses.filter((r) => r.body.duplicate === false)).toHaveLength(1);
      expect(BigInt((await balanceOf(other.accessToken)).available.micros) - before).toBe(2_000_000n);
      expect(await count(`SELECT count(*) AS n FROM audit_log WHERE action = 'billing.top_up_succeeded' AND target_id = $1`, [intent.id])).toBe(1);
    });

    it('refuses a webhook for a payment Anneal never created', async () => {
      const rawBody = JSON.stringify({
        id: 'evt_forged',
        type: 'top_up.succeeded',
        created: Math.floor(clock.now().getTime() / 1000),
        data: { payment_id: 'pi_unknown', org_id: customer.orgId, amount_micros: '1000000000' },
      });
      const response = await deliver(rawBody, signWebhookPayload(rawBody, WEBHOOK_SECRET, clock.now()));
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('webhook_unknown_payment');
    });

    it('returns the same intent for a retried request with the same Idempotency-Key', async () => {
      const key = `topup-${uuidv7()}`;
      const first = await t.http.post('/v1/billing/top-ups', { amountUsd: '8' }, customer.accessToken, { 'idempotency-key': key });
      expect(first.status).toBe(201);
      const retry = await t.http.post('/v1/billing/top-ups', { amountMicros: '8000000' }, customer.accessToken, { 'idempotency-key': key });
      expect(retry.status).toBe(200);
      expect(retry.body.id).toBe(first.body.id);
      const mismatch = await t.http.post('/v1/billing/top-ups', { amountUsd: '9' }, customer.accessToken, { 'idempotency-key': key });
      expect(mismatch.status).toBe(409);
      expect(mismatch.body.code).toBe('idempotency_mismatch');
      expect(await count('SELECT count(*) AS n FROM top_ups WHERE idempotency_key = $1', [key])).toBe(1);
      // The same key in another org is another request.
      expect((await t.http.post('/v1/billing/top-ups', { amountUsd: '8' }, other.accessToken, { 'idempotency-key': key })).status).toBe(201);
    });

    it('refuses zero, negative, fractional-cent, absurd and ambiguous amounts', async () => {
      for (const body of [
        { amountUsd: 0 },
        { amountUsd: '0.00' },
        { amountUsd: -5 },
        { amountUsd: '-5' },
        { amountUsd: '1.001' },
        { amountMicros: '0' },
        { amountMicros: '-1000000' },
        { amountMicros: '999999999999999999' },
        { amountUsd: '1000000' },
        { amountUsd: '5', amountMicros: '5000000' },
        {},
        { amountUsd: '5', cardNumber: '4242424242424242' },
      ]) {
        const response = await t.http.post('/v1/billing/top-ups', body, customer.accessToken);
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(response.body.code).toBe('validation_failed');
      }
      expect(await count(`SELECT count(*) AS n FROM top_ups WHERE amount_micros <= 0 OR amount_micros > 10000000000`)).toBe(0);
    });

    it('completes a top-up through the test processor endpoint (npm start flow), for the owning org only', async () => {
      const intent = await startTopUp(other.accessToken, { amountUsd: '3' });
      const foreign = await t.http.post(`/v1/billing/top-ups/${intent.id}/simulate-payment`, {}, customer.accessToken);
      expect(foreign.status).toBe(404);
      expect((await t.http.get(`/v1/billing/top-ups/${intent.id}`, customer.accessToken)).status).toBe(404);
      const before = BigInt((await balanceOf(other.accessToken)).available.micros);
      const done = await t.http.post(`/v1/billing/top-ups/${intent.id}/simulate-payment`, {}, other.accessToken);
      expect(done.status).toBe(200);
      expect(done.body.delivery.status).toBe(200);
      expect(done.body.topUp.status).toBe('succeeded');
      expect(BigInt((await balanceOf(other.accessToken)).available.micros) - before).toBe(3_000_000n);
      const twice = await t.http.post(`/v1/billing/top-ups/${intent.id}/simulate-payment`, {}, other.accessToken);
      expect(twice.status).toBe(409);

      const declined = await startTopUp(other.accessToken, { amountUsd: '4' });
      const failed = await t.http.post(`/v1/billing/top-ups/${declined.id}/simulate-payment`, { outcome: 'failed' }, other.accessToken);
      expect(failed.body.topUp.status).toBe('failed');
      expect(BigInt((await balanceOf(other.accessToken)).available.micros) - before).toBe(3_000_000n);
      expect(t.logLines.join('\n')).not.toContain(WEBHOOK_SECRET);
    });
  });

  describe('holds and settlement (for the jobs module)', () => {
    let jobId: string;
    let attemptId: string;

    it('refuses a hold the credit cannot cover with 402 and the figures', async () => {
      const { availableMicros } = await billing.balance(customer.orgId);
      await expect(
        billing.placeJobHold({ orgId: customer.orgId, jobId: uuidv7(), quoteUpperMicros: availableMicros + 1n, budgetCapMicros: null }),
      ).rejects.toMatchObject({ status: 402, code: 'insufficient_credits', details: { requiredMicros: (availableMicros + 1n).toString(), availableMicros: availableMicros.toString() } });
      expect((await billing.balance(customer.orgId)).heldMicros).toBe(0n);
      await expect(billing.placeJobHold({ orgId: customer.orgId, jobId: uuidv7(), quoteUpperMicros: 5_000_000n, budgetCapMicros: 0n })).rejects.toMatchObject({ status: 400 });
    });

    it('holds the lower of quote and budget cap, once per job', async () => {
      jobId = uuidv7();
      const hold = await billing.placeJobHold({ orgId: customer.orgId, jobId, quoteUpperMicros: 20_000_000n, budgetCapMicros: 30_000_000n });
      expect(hold).toEqual({ holdId: jobHoldId(jobId), amountMicros: 20_000_000n, replay: false });
      const again = await billing.placeJobHold({ orgId: customer.orgId, jobId, quoteUpperMicros: 20_000_000n, budgetCapMicros: 30_000_000n });
      expect(again.replay).toBe(true);
      expect(await billing.balance(customer.orgId)).toEqual({ availableMicros: 30_000_000n, heldMicros: 20_000_000n });
      await expect(billing.placeJobHold({ orgId: customer.orgId, jobId, quoteUpperMicros: 1_000_000n, budgetCapMicros: null })).rejects.toMatchObject({
        status: 409,
        code: 'ledger_conflict',
      });
    });

    it('settles an attempt: provider share, platform fee, the rest released; invariants hold; replay is a no-op', async () => {
      attemptId = uuidv7();
      const runningAt = new Date(clock.now().getTime() - HOUR_MS);
      const live = billing.liveCost({ runningAt, endedAt: null, endReason: null, lastHeartbeatAt: null, priceMicrosPerGpuHour: 2_000_000n, gpuCount: 2 }, clock.now());
      expect(live).toEqual({ billableSeconds: 3600, costMicros: 4_000_000n });

      const request = {
        orgId: customer.orgId,
        providerOrgId: provider.orgId,
        jobId,
        attemptId,
        gpuModel: 'H100 80GB',
        gpuCount: 2,
        priceMicrosPerGpuHour: 2_000_000n,
        attempt: { runningAt, endedAt: clock.now(), endReason: 'completed' as const, lastHeartbeatAt: clock.now() },
        budgetCapMicros: 30_000_000n,
      };
      const settled = await billing.settleAttempt(request);
      expect(settled).toMatchObject({
        billableSeconds: 3600,
        costMicros: 4_000_000n,
        chargedMicros: 4_000_000n,
        platformFeeMicros: 800_000n,
        providerShareMicros: 3_200_000n,
        releasedMicros: 16_000_000n,
        nextHoldId: null,
        replay: false,
      });
      expect(await billing.balance(customer.orgId)).toEqual({ availableMicros: 46_000_000n, heldMicros: 0n });
      expect((await store.getProviderBalance(provider.orgId)).payableMicros).toBe(3_200_000n);
      const revenue = (await store.lookupAccounts([accountIdFor('platform_revenue')]))[0]!;
      expect(creditBalance(revenue)).toBe(800_000n);
      expect(await store.checkInvariants()).toEqual([]);

      expect((await billing.settleAttempt(request)).replay).toBe(true);
      expect(await billing.balance(customer.orgId)).toEqual({ availableMicros: 46_000_000n, heldMicros: 0n });
      await expect(billing.settleAttempt({ ...request, priceMicrosPerGpuHour: 3_000_000n })).rejects.toMatchObject({ status: 409 });
      await expect(billing.releaseJobHold(jobId)).rejects.toMatchObject({ status: 409, code: 'hold_already_settled' });
      expect(await store.checkInvariants()).toEqual([]);
    });

    it('refunds with correcting transfers from the provider share and the fee, once per refund id', async () => {
      const refundId = uuidv7();
      const request = {
        orgId: customer.orgId,
        refundId,
        code: 'dispute_resolution' as const,
        jobId,
        attemptId,
        disputeId: uuidv7(),
        fromProvider: { providerOrgId: provider.orgId, amountMicros: 1_000_000n },
        fromPlatformMicros: 250_000n,
      };
      expect(await billing.refund(request)).toEqual({ refundedMicros: 1_250_000n, replay: false });
      expect(await billing.refund(request)).toEqual({ refundedMicros: 1_250_000n, replay: true });
      expect(await billing.balance(customer.orgId)).toEqual({ availableMicros: 47_250_000n, heldMicros: 0n });
      expect((await store.getProviderBalance(provider.orgId)).payableMicros).toBe(2_200_000n);
      await expect(
        billing.refund({ ...request, refundId: uuidv7(), fromProvider: { providerOrgId: provider.orgId, amountMicros: 99_000_000n } }),
      ).rejects.toMatchObject({ status: 409, code: 'provider_balance_insufficient' });
      expect(await billing.balance(customer.orgId)).toEqual({ availableMicros: 47_250_000n, heldMicros: 0n });
      expect(await store.checkInvariants()).toEqual([]);
    });

    it('charges exactly the budget cap for an attempt stopped at its cap', async () => {
      const capJob = uuidv7();
      await billing.placeJobHold({ orgId: customer.orgId, jobId: capJob, quoteUpperMicros: 10_000_000n, budgetCapMicros: 3_000_000n });
      const runningAt = new Date(clock.now().getTime() - 3 * HOUR_MS);
      const settled = await billing.settleAttempt({
        orgId: customer.orgId,
        providerOrgId: provider.orgId,
        jobId: capJob,
        attemptId: uuidv7(),
        gpuModel: 'A100 40GB',
        gpuCount: 1,
        priceMicrosPerGpuHour: 1_100_000n,
        attempt: { runningAt, endedAt: new Date(runningAt.getTime() + 9_818_000), endReason: 'budget_exhausted', lastHeartbeatAt: clock.now() },
        budgetCapMicros: 3_000_000n,
      });
      expect(settled.chargedMicros).toBe(3_000_000n);
      expect(settled.platformFeeMicros + settled.providerShareMicros).toBe(3_000_000n);
      expect(settled.releasedMicros).toBe(0n);
      expect(await billing.balance(customer.orgId)).toEqual({ availableMicros: 44_250_000n, heldMicros: 0n });
      expect(await store.checkInvariants()).toEqual([]);
    });

    it('releases a hold in full when a job is canceled before running, idempotently', async () => {
      const canceled = uuidv7();
      await billing.placeJobHold({ orgId: customer.orgId, jobId: canceled, quoteUpperMicros: 5_000_000n, budgetCapMicros: null });
      expect((await billing.balance(customer.orgId)).heldMicros).toBe(5_000_000n);
      expect(await billing.releaseJobHold(canceled)).toEqual({ released: true, releasedMicros: 5_000_000n });
      expect(await billing.releaseJobHold(canceled)).toEqual({ released: true, releasedMicros: 5_000_000n });
      expect(await billing.releaseJobHold(uuidv7())).toEqual({ released: false, releasedMicros: 0n });
      expect(await billing.balance(customer.orgId)).toEqual({ availableMicros: 44_250_000n, heldMicros: 0n });
    });

    it('keeps the remainder held for the next attempt when the job goes on', async () => {
      const retried = uuidv7();
      await billing.placeJobHold({ orgId: customer.orgId, jobId: retried, quoteUpperMicros: 4_000_000n, budgetCapMicros: null });
      const runningAt = new Date(clock.now().getTime() - 1_800_000);
      const first = await billing.settleAttempt({
        orgId: customer.orgId,
        providerOrgId: provider.orgId,
        jobId: retried,
        attemptId: uuidv7(),
        gpuModel: 'L4',
        gpuCount: 1,
        priceMicrosPerGpuHour: 1_000_000n,
        attempt: { runningAt, endedAt: clock.now(), endReason: 'preempted', lastHeartbeatAt: clock.now() },
        budgetCapMicros: null,
        continueJob: true,
      });
      expect(first.chargedMicros).toBe(500_000n);
      expect(first.nextHoldId).not.toBeNull();
      expect((await billing.balance(customer.orgId)).heldMicros).toBe(3_500_000n);
      expect(await billing.releaseJobHold(retried, first.nextHoldId!)).toEqual({ released: true, releasedMicros: 3_500_000n });
      expect(await billing.balance(customer.orgId)).toEqual({ availableMicros: 43_750_000n, heldMicros: 0n });
      expect(await store.checkInvariants()).toEqual([]);
    });
  });

  describe('statement', () => {
    it('traces every line to a job attempt (GPU, seconds, rate, amount) or a payment, page by page', async () => {
      const response = await t.http.get('/v1/billing/transactions?limit=100', customer.accessToken);
      expect(response.status).toBe(200);
      const lines: any[] = response.body.lines;
      const charge = lines.find((l) => l.type === 'charge' && l.usage?.gpuModel === 'H100 80GB');
      expect(charge).toMatchObject({
        direction: 'debit',
        amount: { micros: '4000000', usd: '$4.00' },
        usage: { gpuCount: 2, billableSeconds: 3600, rate: { micros: '2000000', usd: '$2.00' }, charged: { micros: '4000000' } },
      });
      expect(charge.jobId).toMatch(/^[0-9a-f-]{36}$/);
      expect(charge.attemptId).toMatch(/^[0-9a-f-]{36}$/);
      expect(charge.description).toContain('2× H100 80GB for 3600 s at $2.00/GPU-hour');
      const topUps = lines.filter((l) => l.type === 'top_up');
      expect(topUps.length).toBeGreaterThan(0);
      for (const line of topUps) expect(line.paymentId).toMatch(/^pi_test_/);
      for (const line of lines) expect(line.jobId ?? line.paymentId).toBeTruthy();

      const first = await t.http.get('/v1/billing/transactions?limit=2', customer.accessToken);
      expect(first.body.lines).toHaveLength(2);
      const next = await t.http.get(`/v1/billing/transactions?limit=2&cursor=${first.body.nextCursor}`, customer.accessToken);
      expect(next.body.lines[0].id).toBe(lines[2].id);
      expect((await t.http.get('/v1/billing/transactions?limit=0', customer.accessToken)).status).toBe(400);
    });

    it('never shows another org its balance or statement', async () => {
      const otherStatement = await t.http.get('/v1/billing/transactions', other.accessToken);
      expect(otherStatement.body.lines.every((l: any) => !l.jobId)).toBe(true);
      expect((await balanceOf(other.accessToken)).orgId).toBe(other.orgId);
      // Acting for an org one is not a member of: 404, as if it did not exist.
      const foreign = await t.http.get('/v1/billing/balance', other.accessToken, { 'anneal-org': customer.orgId });
      expect(foreign.status).toBe(404);
      expect((await t.http.get('/v1/billing/transactions', other.accessToken, { 'anneal-org': customer.orgId })).status).toBe(404);
      const admin = await t.http.get(`/v1/admin/billing/orgs/${customer.orgId}/balance`, other.accessToken);
      expect(admin.status).toBe(403);
    });
  });

  it('lets a platform admin (with 2FA) read any org\'s balance', async () => {
    const admin = await signUp(t.http);
    await t.dataSource.query('UPDATE users SET is_admin = true WHERE id = $1', [admin.userId]);
    const enrol = await t.http.post('/v1/auth/2fa/enroll', {}, admin.accessToken);
    const code = await generate({ secret: enrol.body.secret, epoch: Math.floor(clock.now().getTime() / 1000) });
    expect((await t.http.post('/v1/auth/2fa/verify', { code }, admin.accessToken)).status).toBe(200);
    const response = await t.http.get(`/v1/admin/billing/orgs/${customer.orgId}/balance`, admin.accessToken);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ orgId: customer.orgId, available: (await balanceOf(customer.accessToken)).available });
    expect(await count(`SELECT count(*) AS n FROM audit_log WHERE action = 'admin.billing_balance_viewed' AND actor_user_id = $1`, [admin.userId])).toBe(1);
    expect((await t.http.get(`/v1/admin/billing/orgs/${uuidv7()}/balance`, admin.accessToken)).status).toBe(404);
  });

  describe('provider payouts', () => {
    it('pays earnings only after the dispute window and above the minimum, once', async () => {
      // A second provider with earnings below the minimum ($2 here).
      const small = await signUp(t.http);
      const smallJob = uuidv7();
      await billing.placeJobHold({ orgId: customer.orgId, jobId: smallJob, quoteUpperMicros: 1_000_000n, budgetCapMicros: null });
      await billing.settleAttempt({
        orgId: customer.orgId,
        providerOrgId: small.orgId,
        jobId: smallJob,
        attemptId: uuidv7(),
        gpuModel: 'T4',
        gpuCount: 1,
        priceMicrosPerGpuHour: 1_000_000n,
        attempt: { runningAt: new Date(clock.now().getTime() - HOUR_MS), endedAt: clock.now(), endReason: 'completed', lastHeartbeatAt: clock.now() },
        budgetCapMicros: null,
      });

      expect(await scheduler.runPayouts()).toMatchObject({ paid: 0 });
      clock.advance(6 * DAY_MS);
      expect(await scheduler.runPayouts()).toMatchObject({ paid: 0 });
      clock.advance(1 * DAY_MS + HOUR_MS);
      const run = await scheduler.runPayouts();
      expect(run).toMatchObject({ paid: 1 });
      // 3.20 (first attempt) − 1.00 (refunded) + 2.40 (the capped attempt) + 0.40 (the preempted one) = 5.00
      expect(run!.totalMicros).toBe(5_000_000n);
      expect(await scheduler.runPayouts()).toMatchObject({ paid: 0 });
      await signInAgain(provider, small, customer);

      const payouts = await t.http.get('/v1/provider/payouts', provider.accessToken);
      expect(payouts.status).toBe(200);
      expect(payouts.body.payouts).toHaveLength(1);
      expect(payouts.body.payouts[0].amount).toEqual({ micros: '5000000', usd: '$5.00' });
      const earnings = await t.http.get('/v1/provider/earnings', provider.accessToken);
      expect(earnings.body).toMatchObject({ payable: { micros: '0' }, paidOut: { micros: '5000000' }, payoutCount: 1 });
      expect(earnings.body.lines.some((l: any) => l.type === 'provider_share' && l.attemptId)).toBe(true);

      expect((await t.http.get('/v1/provider/earnings', small.accessToken)).body.payable.micros).toBe('800000');
      expect((await t.http.get('/v1/provider/payouts', small.accessToken)).body.payouts).toEqual([]);
      expect((await t.http.get('/v1/provider/payouts', customer.accessToken)).body.payouts).toEqual([]);
      expect(await store.checkInvariants()).toEqual([]);
    });
  });

  describe('invoices', () => {
    it('generates the previous month once per org, with traceable lines; another org gets 404', async () => {
      // Into the month after the one the customer's transfers were made in (they all happened at startedAt).
      const target = Date.UTC(startedAt.getUTCFullYear(), startedAt.getUTCMonth() + 1, 2);
      if (target > clock.now().getTime()) clock.advance(target - clock.now().getTime());
      const first = await scheduler.runMonthlyInvoices();
      expect(first!.created).toBeGreaterThanOrEqual(1);
      const again = await scheduler.runMonthlyInvoices();
      expect(again).toMatchObject({ period: first!.period, created: 0 });
      expect(await count('SELECT count(*) AS n FROM invoices WHERE org_id = $1', [customer.orgId])).toBe(1);
      await signInAgain(customer, other);

      const list = await t.http.get('/v1/billing/invoices', customer.accessToken);
      expect(list.status).toBe(200);
      expect(list.body.invoices).toHaveLength(1);
      const summary = list.body.invoices[0];
      expect(summary.period).toBe(first!.period);
      // Charges: 4.00 + 3.00 + 0.50 + 1.00 = 8.50; credits: the 1.25 dispute resolution; top-ups: 50.00.
      expect(summary.charges).toEqual({ micros: '8500000', usd: '$8.50' });
      expect(summary.credits.micros).toBe('1250000');
      expect(summary.topUps.micros).toBe('50000000');
      expect(summary.total).toEqual({ micros: '7250000', usd: '$7.25' });

      const invoice = await t.http.get(`/v1/billing/invoices/${summary.id}`, customer.accessToken);
      expect(invoice.status).toBe(200);
      const charge = invoice.body.lines.find((l: any) => l.kind === 'charge' && l.usage?.gpuModel === 'H100 80GB');
      expect(charge).toMatchObject({ amount: { micros: '4000000' }, usage: { gpuCount: 2, billableSeconds: 3600, rate: { usd: '$2.00' } } });
      expect(charge.attemptId).toBeTruthy();

      expect((await t.http.get(`/v1/billing/invoices/${summary.id}`, other.accessToken)).status).toBe(404);
      expect((await t.http.get('/v1/billing/invoices/not-a-uuid', customer.accessToken)).status).toBe(404);
      await expect(t.dataSource.query('DELETE FROM invoices WHERE id = $1', [summary.id])).rejects.toThrow(/kept for 7 years/);
    });
  });
});
