import fc from 'fast-check';
import { accountIdFor, deriveUuid, orgAccounts, platformAccounts, providerAccounts } from '../account-ids.js';
import { TransferFlags, type NewAccount, type TransferCode, type TransferInput } from '../ledger.types.js';

/**
 * Random ledger operations for property tests, interpreted into concrete batches without looking
 * at any result, so the same sequence can be replayed against the pure core and the Postgres store.
 */
export type LedgerOp =
  | { kind: 'top_up'; org: number; amount: bigint }
  | { kind: 'transfer'; from: number; to: number; amount: bigint }
  | { kind: 'hold'; org: number; amount: bigint; timeoutSeconds: number }
  | { kind: 'post'; hold: number; amount: bigint | null }
  | { kind: 'void'; hold: number }
  | { kind: 'settle'; hold: number; charge: bigint; feeBps: number; provider: number }
  | { kind: 'linked'; legs: { from: number; to: number; amount: bigint }[]; closeChain: boolean }
  | { kind: 'retry'; step: number; tamper: boolean }
  | { kind: 'advance'; seconds: number }
  | { kind: 'expire' };

export type LedgerStep = { kind: 'batch'; inputs: TransferInput[]; now: Date } | { kind: 'expire'; now: Date };

const amount = fc.bigInt({ min: 1n, max: 5_000n });

export function ledgerOpArbitrary(): fc.Arbitrary<LedgerOp> {
  const index = fc.nat({ max: 50 });
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('top_up' as const), org: index, amount: fc.bigInt({ min: 1n, max: 20_000n }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('transfer' as const), from: index, to: index, amount }) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('hold' as const), org: index, amount, timeoutSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 })) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('post' as const), hold: index, amount: fc.option(amount, { nil: null }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), hold: index }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('settle' as const), hold: index, charge: fc.bigInt({ min: 0n, max: 6_000n }), feeBps: fc.integer({ min: 0, max: 10_000 }), provider: index }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('linked' as const),
        legs: fc.array(fc.record({ from: index, to: index, amount }), { minLength: 1, maxLength: 4 }),
        closeChain: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('retry' as const), step: index, tamper: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 90 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
  );
}

/** The accounts a scenario uses: a few customer orgs, provider orgs and the platform accounts. */
export interface Scenario {
  accounts: NewAccount[];
  orgIds: string[];
  providerIds: string[];
  /** Every account id, for random plain transfers between any two. */
  accountIds: string[];
}

export function scenario(label: string, orgs = 3, providers = 2): Scenario {
  const orgIds = Array.from({ length: orgs }, (_, i) => deriveUuid('scenario-org', label, String(i)));
  const providerIds = Array.from({ length: providers }, (_, i) => deriveUuid('scenario-provider', label, String(i)));
  const accounts = [...orgIds.flatMap(orgAccounts), ...providerIds.flatMap(providerAccounts), ...platformAccounts()];
  return { accounts, orgIds, providerIds, accountIds: accounts.map((a) => a.id) };
}

const pick = <T>(items: readonly T[], index: number): T => items[index % items.length]!;

/** Turns operations into concrete batches (ids derived from `label`, so runs never collide). */
export function interpretOps(label: string, sc: Scenario, ops: readonly LedgerOp[], start: Date): LedgerStep[] {
  const steps: LedgerStep[] = [];
  const holds: { id: string; org: string }[] = [];
  let time = start.getTime();
  let counter = 0;
  const nextId = () => deriveUuid('op', label, String(counter++));
  const plain = (from: string, to: string, value: bigint, code: TransferCode, flags = 0): TransferInput => ({
    id: nextId(),
    debitAccountId: from,
    creditAccountId: to,
    amount: value,
    code,
    flags,
  });
  for (const op of ops) {
    const now = new Date(time);
    switch (op.kind) {
      case 'top_up':
        steps.push({ kind: 'batch', now, inputs: [plain(accountIdFor('platform_payment_clearing'), accountIdFor('org_available', pick(sc.orgIds, op.org)), op.amount, 'top_up')] });
        break;
      case 'transfer':
        steps.push({ kind: 'batch', now, inputs: [plain(pick(sc.accountIds, op.from), pick(sc.accountIds, op.to), op.amount, 'transfer')] });
        break;
      case 'hold': {
        const org = pick(sc.orgIds, op.org);
        const input: TransferInput = {
          ...plain(accountIdFor('org_available', org), accountIdFor('org_held', org), op.amount, 'hold', TransferFlags.pending),
          timeoutSeconds: op.timeoutSeconds,
        };
        holds.push({ id: input.id, org });
        steps.push({ kind: 'batch', now, inputs: [input] });
        break;
      }
      case 'post':
      case 'void': {
        if (holds.length === 0) break;
        const hold = pick(holds, op.hold);
        const input: TransferInput =
          op.kind === 'post'
            ? { id: nextId(), pendingId: hold.id, code: 'charge', flags: TransferFlags.postPending, ...(op.amount === null ? {} : { amount: op.amount }) }
            : { id: nextId(), pendingId: hold.id, code: 'release', flags: TransferFlags.voidPending };
        steps.push({ kind: 'batch', now, inputs: [input] });
        break;
      }
      case 'settle': {
        if (holds.length === 0) break;
        const hold = pick(holds, op.hold);
        const held = accountIdFor('org_held', hold.org);
        const fee = (op.charge * BigInt(op.feeBps)) / 10_000n;
        const inputs: TransferInput[] =
          op.charge === 0n
            ? [{ id: nextId(), pendingId: hold.id, code: 'release', flags: TransferFlags.voidPending }]
            : [
                { id: nextId(), pendingId: hold.id, amount: op.charge, code: 'charge', flags: TransferFlags.postPending | TransferFlags.linked },
                ...(op.charge - fee > 0n
                  ? [plain(held, accountIdFor('provider_payable', pick(sc.providerIds, op.provider)), op.charge - fee, 'provider_share', TransferFlags.linked)]
                  : []),
                ...(fee > 0n ? [plain(held, accountIdFor('platform_revenue'), fee, 'platform_fee', TransferFlags.linked)] : []),
              ];
        const last = inputs[inputs.length - 1]!;
        last.flags = (last.flags ?? 0) & ~TransferFlags.linked;
        steps.push({ kind: 'batch', now, inputs });
        break;
      }
      case 'linked': {
        const inputs = op.legs.map((leg) => plain(pick(sc.accountIds, leg.from), pick(sc.accountIds, leg.to), leg.amount, 'transfer', TransferFlags.linked));
        if (op.closeChain) inputs[inputs.length - 1]!.flags = 0;
        steps.push({ kind: 'batch', now, inputs });
        break;
      }
      case 'retry': {
        const batches = steps.filter((s): s is Extract<LedgerStep, { kind: 'batch' }> => s.kind === 'batch');
        if (batches.length === 0) break;
        const previous = pick(batches, op.step);
        const inputs = previous.inputs.map((input, i) =>
          op.tamper && i === 0 ? { ...input, amount: (input.amount ?? 1n) + 1n } : { ...input },
        );
        steps.push({ kind: 'batch', now, inputs });
        break;
      }
      case 'advance':
        time += op.seconds * 1000;
        break;
      case 'expire':
        steps.push({ kind: 'expire', now });
        break;
    }
  }
  return steps;
}
