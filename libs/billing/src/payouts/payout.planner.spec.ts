import { describe, expect, it } from 'vitest';
import { accountIdFor } from '../ledger/account-ids.js';
import { payoutCutoff, planPayout, planPayoutSettled } from './payout.planner.js';

const PROVIDER = '0190a0b0-0000-7000-8000-0000000000aa';
const PAYOUT = '0190a0b0-0000-7000-8000-0000000000ab';
const NOW = new Date('2026-05-10T00:00:00Z');

describe('planPayout', () => {
  const base = { providerOrgId: PROVIDER, payoutId: PAYOUT, now: NOW, payableBalanceMicros: 50_000_000n, creditsPostedBeforeCutoffMicros: 30_000_000n, debitsMicros: 0n };

  it('pays out earnings older than the dispute window', () => {
    const plan = planPayout(base);
    expect(plan.kind).toBe('payout');
    if (plan.kind !== 'payout') return;
    expect(plan.payout.amountMicros).toBe(30_000_000n);
    expect(plan.payout.cutoff).toEqual(new Date('2026-05-03T00:00:00Z'));
    expect(plan.transfer).toMatchObject({
      debitAccountId: accountIdFor('provider_payable', PROVIDER),
      creditAccountId: accountIdFor('platform_payouts_clearing'),
      amount: 30_000_000n,
      code: 'payout',
    });
  });

  it('subtracts what was already paid out, and never exceeds the balance', () => {
    expect(planPayout({ ...base, debitsMicros: 25_000_000n })).toMatchObject({ kind: 'nothing_due', eligibleMicros: 5_000_000n, reason: 'below_minimum' });
    const plan = planPayout({ ...base, payableBalanceMicros: 12_000_000n });
    expect(plan.kind === 'payout' && plan.payout.amountMicros).toBe(12_000_000n);
    expect(planPayout({ ...base, debitsMicros: 40_000_000n })).toMatchObject({ kind: 'nothing_due', reason: 'nothing_eligible' });
  });

  it('honours a custom minimum and window', () => {
    expect(planPayout({ ...base, minimumPayoutMicros: 40_000_000n }).kind).toBe('nothing_due');
    expect(payoutCutoff(NOW, 1000)).toEqual(new Date(NOW.getTime() - 1000));
  });

  it('settles a payout into the provider paid-out account', () => {
    expect(planPayoutSettled({ payoutId: PAYOUT, providerOrgId: PROVIDER, amountMicros: 5n })).toMatchObject({
      creditAccountId: accountIdFor('provider_paid_out', PROVIDER),
      amount: 5n,
      code: 'payout_settled',
    });
  });
});
