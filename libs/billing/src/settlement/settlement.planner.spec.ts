import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accountIdFor, orgAccounts, platformAccounts, providerAccounts } from '../ledger/account-ids.js';
import { Ledger } from '../ledger/ledger.core.js';
import { availableBalance, creditBalance } from '../ledger/ledger.types.js';
import type { MeteredAttempt } from '../metering/metering.js';
import { jobHoldId, planAttemptSettlement, planJobHold, planTopUp, type AttemptSettlementInput } from './settlement.planner.js';

const ORG = '0190a0b0-0000-7000-8000-00000000000a';
const PROVIDER = '0190a0b0-0000-7000-8000-00000000000b';
const JOB = '0190a0b0-0000-7000-8000-00000000000c';
const ATTEMPT = '0190a0b0-0000-7000-8000-00000000000d';
const T0 = new Date('2026-02-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function fundedLedger(topUp: bigint): Ledger {
  const ledger = new Ledger();
  ledger.createAccounts([...orgAccounts(ORG), ...providerAccounts(PROVIDER), ...platformAccounts()], T0);
  expect(ledger.createTransfers([planTopUp({ orgId: ORG, paymentId: 'pi_1', amountMicros: topUp })], T0)[0]!.result).toBe('ok');
  return ledger;
}

const ranHour: MeteredAttempt = { runningAt: at(60), endedAt: at(3660), endReason: 'completed', lastHeartbeatAt: at(3659) };

function settlementInput(patch: Partial<AttemptSettlementInput> = {}): AttemptSettlementInput {
  return {
    orgId: ORG,
    providerOrgId: PROVIDER,
    jobId: JOB,
    attemptId: ATTEMPT,
    hold: { id: jobHoldId(JOB), amountMicros: 10_000_000n },
    gpuModel: 'H100-80GB',
    gpuCount: 2,
    priceMicrosPerGpuHour: 2_500_000n,
    attempt: ranHour,
    budgetCapMicros: null,
    now: at(4000),
    ...patch,
  };
}

describe('planJobHold', () => {
  it('holds the lower of the quote upper bound and the budget cap', () => {
    expect(planJobHold({ orgId: ORG, jobId: JOB, quoteUpperMicros: 9n, budgetCapMicros: 5n }).amountMicros).toBe(5n);
    expect(planJobHold({ orgId: ORG, jobId: JOB, quoteUpperMicros: 9n, budgetCapMicros: 50n }).amountMicros).toBe(9n);
    const plan = planJobHold({ orgId: ORG, jobId: JOB, quoteUpperMicros: 9n, budgetCapMicros: null });
    expect(plan).toMatchObject({ holdId: jobHoldId(JOB), amountMicros: 9n });
    expect(() => planJobHold({ orgId: ORG, jobId: JOB, quoteUpperMicros: 9n, budgetCapMicros: 0n })).toThrow(RangeError);
  });
});

describe('planAttemptSettlement', () => {
  it('posts the hold: provider share to payable, 20% fee to revenue, the rest released', () => {
    const ledger = fundedLedger(20_000_000n);
    const hold = planJobHold({ orgId: ORG, jobId: JOB, quoteUpperMicros: 10_000_000n, budgetCapMicros: null });
    expect(ledger.createTransfers([hold.transfer], T0)[0]!.result).toBe('ok');
    expect(availableBalance(ledger.lookupAccount(accountIdFor('org_available', ORG))!)).toBe(10_000_000n);

    const plan = planAttemptSettlement(settlementInput());
    expect(plan).toMatchObject({
      billableSeconds: 3600,
      costMicros: 5_000_000n,
      chargedMicros: 5_000_000n,
      providerShareMicros: 4_000_000n,
      platformFeeMicros: 1_000_000n,
      releasedMicros: 5_000_000n,
      uncoveredMicros: 0n,
    });
    expect(plan.usage).toMatchObject({ gpuModel: 'H100-80GB', gpuCount: 2, billableSeconds: 3600, priceMicrosPerGpuHour: 2_500_000n, chargedMicros: 5_000_000n });
    expect(ledger.createTransfers(plan.transfers, at(4000)).map((o) => o.result)).toEqual(['ok', 'ok', 'ok']);
    expect(availableBalance(ledger.lookupAccount(accountIdFor('org_available', ORG))!)).toBe(15_000_000n);
    expect(creditBalance(ledger.lookupAccount(accountIdFor('org_held', ORG))!)).toBe(0n);
    expect(availableBalance(ledger.lookupAccount(accountIdFor('provider_payable', PROVIDER))!)).toBe(4_000_000n);
    expect(ledger.lookupAccount(accountIdFor('platform_revenue'))!.creditsPosted).toBe(1_000_000n);
    // A replayed "finished" event plans the same transfers: nothing is charged twice.
    expect(ledger.createTransfers(planAttemptSettlement(settlementInput()).transfers, at(5000)).map((o) => o.result)).toEqual(['exists', 'exists', 'exists']);
    expect(ledger.checkInvariants()).toEqual([]);
  });

  it('charges exactly the budget cap when the job stopped at it', () => {
    const plan = planAttemptSettlement(
      settlementInput({ budgetCapMicros: 3_000_000n, attempt: { ...ranHour, endReason: 'budget_exhausted', endedAt: at(60 + 2159) } }),
    );
    expect(plan.costMicros).toBe(2_998_611n);
    expect(plan.chargedMicros).toBe(3_000_000n);
    expect(plan.providerShareMicros + plan.platformFeeMicros).toBe(3_000_000n);
  });

  it('never charges more than the hold, and reports what it could not cover', () => {
    const plan = planAttemptSettlement(settlementInput({ hold: { id: jobHoldId(JOB), amountMicros: 1_000_000n } }));
    expect(plan).toMatchObject({ chargedMicros: 1_000_000n, releasedMicros: 0n, uncoveredMicros: 4_000_000n });
  });

  it('voids the hold when nothing is billable (provisioning failed)', () => {
    const ledger = fundedLedger(20_000_000n);
    ledger.createTransfers([planJobHold({ orgId: ORG, jobId: JOB, quoteUpperMicros: 10_000_000n, budgetCapMicros: null }).transfer], T0);
    const plan = planAttemptSettlement(settlementInput({ attempt: { runningAt: null, endedAt: at(100), endReason: 'error', lastHeartbeatAt: null } }));
    expect(plan.transfers).toHaveLength(1);
    expect(plan.transfers[0]!.code).toBe('release');
    expect(ledger.createTransfers(plan.transfers, at(100))[0]!.result).toBe('ok');
    expect(availableBalance(ledger.lookupAccount(accountIdFor('org_available', ORG))!)).toBe(20_000_000n);
  });

  it('re-holds the remainder for the next attempt in the same batch', () => {
    const ledger = fundedLedger(10_000_000n);
    ledger.createTransfers([planJobHold({ orgId: ORG, jobId: JOB, quoteUpperMicros: 10_000_000n, budgetCapMicros: null }).transfer], T0);
    const reholdId = jobHoldId(`${JOB}:2`);
    const plan = planAttemptSettlement(
      settlementInput({ attempt: { ...ranHour, endReason: 'node_lost', lastHeartbeatAt: at(60 + 1800) }, reholdId }),
    );
    expect(plan.chargedMicros).toBe(2_500_000n);
    expect(plan.reheldMicros).toBe(7_500_000n);
    expect(ledger.createTransfers(plan.transfers, at(4000)).every((o) => o.result === 'ok')).toBe(true);
    expect(ledger.pendingStatus(reholdId)).toBe('pending');
    expect(availableBalance(ledger.lookupAccount(accountIdFor('org_available', ORG))!)).toBe(0n);
    expect(ledger.lookupAccount(accountIdFor('org_held', ORG))!.creditsPending).toBe(7_500_000n);
    expect(ledger.checkInvariants()).toEqual([]);
  });

  it('always splits the charge exactly and settles through the ledger', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10_000_000_000n }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.bigInt({ min: 0n, max: 50_000_000n }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.option(fc.bigInt({ min: 0n, max: 10_000_000_000n }), { nil: null }),
        (holdMicros, seconds, price, gpus, feeBps, cap) => {
          const ledger = fundedLedger(holdMicros);
          ledger.createTransfers([planJobHold({ orgId: ORG, jobId: JOB, quoteUpperMicros: holdMicros, budgetCapMicros: null }).transfer], T0);
          const plan = planAttemptSettlement(
            settlementInput({
              hold: { id: jobHoldId(JOB), amountMicros: holdMicros },
              attempt: { ...ranHour, endedAt: at(60 + seconds) },
              priceMicrosPerGpuHour: price,
              gpuCount: gpus,
              platformFeeBps: feeBps,
              budgetCapMicros: cap,
            }),
          );
          expect(plan.providerShareMicros + plan.platformFeeMicros).toBe(plan.chargedMicros);
          expect(plan.chargedMicros + plan.releasedMicros).toBe(holdMicros);
          expect(plan.chargedMicros <= holdMicros && (cap === null || plan.chargedMicros <= cap)).toBe(true);
          expect(ledger.createTransfers(plan.transfers, at(60 + seconds)).every((o) => o.result === 'ok')).toBe(true);
          expect(availableBalance(ledger.lookupAccount(accountIdFor('org_available', ORG))!)).toBe(plan.releasedMicros);
          expect(creditBalance(ledger.lookupAccount(accountIdFor('org_held', ORG))!)).toBe(0n);
          expect(ledger.checkInvariants()).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a fee outside 0..100%', () => {
    expect(() => planAttemptSettlement(settlementInput({ platformFeeBps: 10_001 }))).toThrow(RangeError);
  });
});
