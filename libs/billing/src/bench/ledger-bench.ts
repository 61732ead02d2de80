import { randomUUID } from 'node:crypto';
import { accountIdFor, deriveUuid } from '../ledger/account-ids.js';
import { TransferFlags, type CreateTransferResult, type TransferInput } from '../ledger/ledger.types.js';
import { applyLedgerMigrations } from '../store/ledger.migrations.js';
import { PgLedgerStore, type LedgerDbPool, type PgLedgerStoreOptions } from '../store/ledger.store.js';
import { planTopUp } from '../settlement/settlement.planner.js';

export interface LedgerBenchOptions {
  /** A pool on a database that has the ledger schema, or none yet (it is then migrated). */
  pool: LedgerDbPool & { query?: unknown };
  callers?: number;
  durationMs: number;
  /** Options of the store under test (default: 16 hot-account stripes, group commit on). */
  storeOptions?: PgLedgerStoreOptions;
  /** Wall clock for transfer timestamps and the measured duration (default: the real one). */
  clock?: () => Date;
}

export interface LedgerBenchResult {
  callers: number;
  elapsedMs: number;
  /** Transfers created (`ok`) per second, over all callers. */
  transfersPerSecond: number;
  transfers: number;
  batches: number;
  /** Every non-ok outcome seen, by code (holds already settled by the other path, etc.). */
  outcomes: Partial<Record<CreateTransferResult, number>>;
  /** Violations found afterwards: the ledger sums to zero and matches a replay of its transfers. */
  invariantViolations: string[];
  verified: boolean;
}

/**
 * Drives the real Postgres store with concurrent callers mixing plain transfers (org → provider
 * and org → platform revenue, the hot account, linked), holds, partial posts with the provider
 * and fee legs (linked batches), and voids, for `durationMs`. Then checks the ledger sums to zero
 * and that every stored balance equals an independent replay of the transfers table.
 */
export async function runLedgerBench(options: LedgerBenchOptions): Promise<LedgerBenchResult> {
  const callers = options.callers ?? 8;
  const clock = options.clock ?? (() => new Date());
  const client = await options.pool.connect();
  try {
    const { rows } = await client.query(`SELECT to_regclass('ledger_transfers') IS NOT NULL AS ready`);
    if (!rows[0].ready) await applyLedgerMigrations(client);
  } finally {
    client.release();
  }
  const store = new PgLedgerStore(options.pool, options.storeOptions ?? {});
  const runId = randomUUID();
  let counter = 0;
  const newId = () => deriveUuid('ledger-bench', runId, String(counter++));
  const start = clock();
  await store.ensurePlatformAccounts(start);
  const providers = Array.from({ length: callers }, () => newId());
  for (const providerOrgId of providers) await store.ensureProviderAccounts(providerOrgId, start);
  const orgs = Array.from({ length: callers }, () => newId());
  for (const orgId of orgs) {
    await store.ensureOrgAccounts(orgId, start);
    await store.createTransfers([planTopUp({ orgId, paymentId: `bench_${runId}_${orgId}`, amountMicros: 1_000_000_000_000n })], start);
  }
  const revenue = accountIdFor('platform_revenue');

  const outcomes: Partial<Record<CreateTransferResult, number>> = {};
  let transfers = 0;
  let batches = 0;
  const began = Date.now();
  const deadline = began + options.durationMs;

  const caller = async (c: number) => {
    const orgId = orgs[c]!;
    const available = accountIdFor('org_available', orgId);
    const held = accountIdFor('org_held', orgId);
    const open: { id: string; amount: bigint }[] = [];
    let i = 0;
    while (Date.now() < deadline) {
      i++;
      const payable = accountIdFor('provider_payable', providers[(c + (i % 4 === 0 ? 1 : 0)) % providers.length]!);
      const amount = BigInt(1_000 + ((i * 7919 + c * 104_729) % 1_000_000));
      const fee = amount / 5n;
      let batch: TransferInput[];
      const roll = i % 10;
      if (roll < 4 || (roll >= 7 && open.length === 0)) {
        batch = [
          { id: newId(), debitAccountId: available, creditAccountId: payable, amount: amount - fee, code: 'transfer', flags: TransferFlags.linked },
          { id: newId(), debitAccountId: available, creditAccountId: revenue, amount: fee, code: 'platform_fee' },
        ];
      } else if (roll < 7) {
        const holdId = newId();
        open.push({ id: holdId, amount: amount * 2n });
        batch = [{ id: holdId, debitAccountId: available, creditAccountId: held, amount: amount * 2n, code: 'hold', flags: TransferFlags.pending }];
      } else if (roll < 9) {
        // Post half of the hold (the rest is released), split between provider and fee.
        const hold = open.shift()!;
        const charge = hold.amount / 2n;
        const holdFee = charge / 5n;
        batch = [
          { id: newId(), pendingId: hold.id, amount: charge, code: 'charge', flags: TransferFlags.postPending | TransferFlags.linked },
          { id: newId(), debitAccountId: held, creditAccountId: payable, amount: charge - holdFee, code: 'provider_share', flags: TransferFlags.linked },
          { id: newId(), debitAccountId: held, creditAccountId: revenue, amount: holdFee, code: 'platform_fee' },
        ];
      } else {
        batch = [{ id: newId(), pendingId: open.shift()!.id, code: 'release', flags: TransferFlags.voidPending }];
      }
      const results = await store.createTransfers(batch, clock());
      batches++;
      for (const { result } of results) {
        if (result === 'ok') transfers++;
        else outcomes[result] = (outcomes[result] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)));
  const elapsedMs = Date.now() - began;
  const invariantViolations = await store.checkInvariants();
  return {
    callers,
    elapsedMs,
    transfersPerSecond: Math.round((transfers * 1000) / Math.max(elapsedMs, 1)),
    transfers,
    batches,
    outcomes,
    invariantViolations,
    verified: invariantViolations.length === 0,
  };
}
