import { accountIdFor, isUuid, orgAccounts, platformAccounts, providerAccounts } from '../ledger/account-ids.js';
import {
  compareExistingAccount,
  createTransfers as coreCreateTransfers,
  expirePendingTransfers as coreExpirePendingTransfers,
  validateNewAccount,
  type LedgerEffects,
  type LedgerState,
} from '../ledger/ledger.core.js';
import {
  AccountFlags,
  availableBalance,
  creditBalance,
  isTransferApplied,
  TransferFlags,
  type Account,
  type AccountKind,
  type AccountOutcome,
  type CreateTransferResult,
  type NewAccount,
  type PendingStatus,
  type Transfer,
  type TransferCode,
  type TransferInput,
  type TransferLinks,
  type TransferOutcome,
} from '../ledger/ledger.types.js';
import type { UsageRecord } from '../metering/metering.js';
import type { PaymentEvent } from '../payments/payment-processor.port.js';
import { DEFAULT_DISPUTE_WINDOW_MS, DEFAULT_MINIMUM_PAYOUT_MICROS, payoutCutoff, planPayout, type PayoutPlan } from '../payouts/payout.planner.js';
import { planTopUp, type AttemptSettlementPlan } from '../settlement/settlement.planner.js';

/** What the store needs from a connection: `pg.Client`, `pg.PoolClient`. */
export interface LedgerDbClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount?: number | null }>;
  /** A named (prepared) statement: parsed and planned once per connection. */
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: any[]; rowCount?: number | null }>;
}
/** What the store needs from a pool: `pg.Pool` (or anything with `connect()` handing out releasable clients). */
export interface LedgerDbPool {
  connect(): Promise<LedgerDbClient & { release(error?: Error | boolean): void }>;
}

export interface PgLedgerStoreOptions {
  /** Sub-balance rows per hot account (default 16). Changing it later only ever adds rows. */
  hotAccountStripes?: number;
  /** How often a transaction is retried after a deadlock, serialization failure or id race (default 8). */
  maxRetries?: number;
  /**
   * Group commit (TigerBeetle's batching): concurrent `createTransfers` calls of this store are
   * queued and applied together, in arrival order, in one database transaction (one lock round
   * trip, one write, one commit for the lot). `maxConcurrentFlushes` transactions run at once
   * (default 2); each takes up to `maxBatchesPerFlush` queued calls (default 64). Set
   * `maxConcurrentFlushes: 0` to give every call its own transaction.
   */
  groupCommit?: { maxConcurrentFlushes?: number; maxBatchesPerFlush?: number };
}

interface QueuedBatch {
  inputs: readonly TransferInput[];
  now: Date;
  resolve(results: TransferOutcome[]): void;
  reject(error: unknown): void;
}

export type UsageRecordResult = 'ok' | 'exists' | 'exists_with_different_fields';

export interface SettlementResult {
  results: TransferOutcome[];
  /** Whether the usage record was written; nothing is written when the batch failed. */
  usage: UsageRecordResult | 'not_recorded';
}

export type PaymentEventOutcome =
  /** New event; for a success, the top-up transfer's result is in `transferResult`. */
  | { status: 'applied'; transferResult: CreateTransferResult | null }
  /** This event id was handled before: nothing done. */
  | { status: 'duplicate_event' };

export type CreatePayoutResult =
  | { kind: 'payout'; plan: Extract<PayoutPlan, { kind: 'payout' }>; result: CreateTransferResult }
  | Extract<PayoutPlan, { kind: 'nothing_due' }>;

export interface UsageDetail {
  gpuModel: string;
  gpuCount: number;
  billableSeconds: number;
  priceMicrosPerGpuHour: bigint;
  costMicros: bigint;
  chargedMicros: bigint;
}

/** One line of a statement, traceable to a job attempt (usage) or a payment (links.paymentId). */
export interface StatementLine {
  /** Pass as `cursor` to get the lines before this one. */
  cursor: string;
  transferId: string;
  timestamp: Date;
  code: TransferCode;
  /** Seen from the statement's accounts: money out (debit) or in (credit). */
  direction: 'debit' | 'credit';
  accountId: string;
  counterpartyAccountId: string;
  amountMicros: bigint;
  /** For a hold: where it stands now. */
  pendingStatus: PendingStatus | null;
  /** For a post or void: the hold it resolved. */
  resolvesPendingId: string | null;
  links: TransferLinks;
  usage: UsageDetail | null;
}

export interface StatementPage {
  lines: StatementLine[];
  /** Cursor of the next (older) page; null when this was the last. */
  nextCursor: string | null;
}

const RETRYABLE = new Set(['40P01', '40001', '23505']);
const MAX_BIGINT = '9223372036854775807';

function retryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && RETRYABLE.has((error as { code?: string }).code ?? '');
}

const ACCOUNT_COLUMNS = 'id, kind, owner_id, flags, debits_pending, debits_posted, credits_pending, credits_posted, created_at';
const TRANSFER_COLUMNS =
  't.id, t.debit_account_id, t.credit_account_id, t.amount, t.code, t.flags, t.pending_id, t.timeout_seconds, t.expires_at, t.job_id, t.attempt_id, t.payment_id, t.dispute_id, t.payout_id, t.created_at';

function toAccount(row: any): Account {
  return {
    id: row.id,
    kind: row.kind,
    ownerId: row.owner_id,
    flags: Number(row.flags),
    debitsPending: BigInt(row.debits_pending),
    debitsPosted: BigInt(row.debits_posted),
    creditsPending: BigInt(row.credits_pending),
    creditsPosted: BigInt(row.credits_posted),
    createdAt: row.created_at,
  };
}

function toTransfer(row: any): Transfer {
  return {
    id: row.id,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amount: BigInt(row.amount),
    code: row.code,
    flags: Number(row.flags),
    pendingId: row.pending_id,
    timeoutSeconds: Number(row.timeout_seconds),
    expiresAt: row.expires_at,
    links: { jobId: row.job_id, attemptId: row.attempt_id, paymentId: row.payment_id, disputeId: row.dispute_id, payoutId: row.payout_id },
    timestamp: row.created_at,
  };
}

/**
 * The ledger in PostgreSQL. Every batch runs the pure core (`ledger.core.ts`) over the accounts and
 * transfers it touches, loaded inside one transaction, and writes the core's effects back in the
 * same transaction, so the store and the core cannot disagree on an outcome.
 *
 * Concurrency:
 * - Ordinary accounts are locked with `SELECT … ORDER BY id FOR NO KEY UPDATE`: every transaction
 *   takes its row locks in the same (id) order, so two transactions can never wait on each other
 *   in a cycle (no deadlock), and a limit check (`insufficient_funds`) always sees the latest
 *   balance. The lock is held to COMMIT; the balance UPDATE is a delta on the locked row.
 * - Hot accounts (flag `hot`: platform revenue) are credit-mostly and carry no balance limit, so no
 *   outcome ever depends on their balance and nobody needs to read it before writing. We picked
 *   striped sub-balance rows (`ledger_account_stripes`, N per account, default 16; the account row
 *   itself stays zero; balance = sum of the stripes): each transaction adds its delta to ONE stripe
 *   (round-robin), so N transactions write the hot account at once instead of queueing on one row
 *   lock until each other's commit. The stripe write is the last statement before COMMIT (after
 *   every ordinary account lock, several hot accounts in id order), which keeps the global lock order.
 *   The alternative, insert-only deferred deltas folded later, would make every balance read a sum
 *   over an unbounded table.
 * - Group commit (TigerBeetle's batching): concurrent `createTransfers` calls on one store are
 *   queued and applied in arrival order within one transaction (see `groupCommit`), one fsync for
 *   many batches. Each call's outcome is exactly what running the calls one by one would give.
 * - A transfer id raced by two processes, or a hold resolved twice at once, ends in a unique
 *   violation for one of them; the whole transaction is retried and then answers `exists`
 *   (or `pending_already_resolved`). Deadlocks and serialization failures are retried the same way.
 * - Transfers, resolutions, usage records, payment events and payouts are append-only; the database
 *   refuses UPDATE, DELETE and TRUNCATE on them, and refuses to delete an account or change what
 *   it is (triggers in the migration). A CHECK refuses a limited account below zero even to SQL
 *   typed by hand.
 */
export class PgLedgerStore {
  private readonly stripes: number;
  private readonly maxRetries: number;
  private nextStripe = 0;
  private readonly maxFlushes: number;
  private readonly maxBatchesPerFlush: number;
  private readonly queue: QueuedBatch[] = [];
  private flushing = 0;
  /** Transactions retried so far, by cause (a deadlock here would mean the lock order was broken). */
  readonly retries = { deadlock: 0, serializationFailure: 0, uniqueRace: 0 };
  /** Hot accounts' immutable identity (kind, owner, flags): they are never locked, so we remember them. */
  private readonly hotAccounts = new Map<string, Account>();

  constructor(
    private readonly pool: LedgerDbPool,
    options: PgLedgerStoreOptions = {},
  ) {
    this.stripes = options.hotAccountStripes ?? 16;
    this.maxRetries = options.maxRetries ?? 8;
    this.maxFlushes = options.groupCommit?.maxConcurrentFlushes ?? 2;
    this.maxBatchesPerFlush = options.groupCommit?.maxBatchesPerFlush ?? 64;
    if (!Number.isInteger(this.stripes) || this.stripes < 1 || this.stripes > 1024) throw new RangeError('hotAccountStripes must be 1..1024');
  }

  // -------------------------------------------------------------------------------------------
  // Transactions

  /** Runs `fn` on one connection, retrying it whole on deadlock, serialization failure or a unique race. */
  private async withConnection<T>(fn: (client: LedgerDbClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        return await fn(client);
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        if (attempt < this.maxRetries && retryable(error)) {
          const code = (error as { code?: string }).code;
          if (code === '40P01') this.retries.deadlock++;
          else if (code === '40001') this.retries.serializationFailure++;
          else this.retries.uniqueRace++;
          continue;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    }
  }

  /** Runs `fn` in a transaction, retrying it whole on deadlock, serialization failure or a unique race. */
  async transaction<T>(fn: (client: LedgerDbClient) => Promise<T>): Promise<T> {
    return this.withConnection(async (client) => {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Accounts

  async createAccounts(accounts: readonly NewAccount[], now: Date): Promise<AccountOutcome[]> {
    return this.transaction(async (client) => {
      const outcomes: AccountOutcome[] = [];
      for (const [index, account] of accounts.entries()) {
        const invalid = validateNewAccount(account);
        if (invalid) {
          outcomes.push({ index, id: account.id, result: invalid });
          continue;
        }
        const inserted = await client.query(
          `INSERT INTO ledger_accounts (id, kind, owner_id, flags, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id`,
          [account.id, account.kind, account.ownerId, account.flags, now],
        );
        if ((account.flags & AccountFlags.hot) !== 0) {
          await client.query(
            `INSERT INTO ledger_account_stripes (account_id, stripe) SELECT $1, s FROM generate_series(0, $2::int - 1) s
             WHERE EXISTS (SELECT 1 FROM ledger_accounts WHERE id = $1 AND (flags & 4) <> 0) ON CONFLICT DO NOTHING`,
            [account.id, this.stripes],
          );
        }
        if (inserted.rows.length === 1) {
          outcomes.push({ index, id: account.id, result: 'ok' });
          continue;
        }
        const existing = await client.query(`SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1`, [account.id]);
        outcomes.push({
          index,
          id: account.id,
          // A conflict on (kind, owner) under another id is a different account.
          result: existing.rows[0] ? compareExistingAccount(toAccount(existing.rows[0]), account) : 'exists_with_different_fields',
        });
      }
      return outcomes;
    });
  }

  /** Creates (or confirms) a customer org's available and held accounts. */
  ensureOrgAccounts(orgId: string, now: Date): Promise<AccountOutcome[]> {
    return this.createAccounts(orgAccounts(orgId), now);
  }

  /** Creates (or confirms) a provider org's payable and paid-out accounts. */
  ensureProviderAccounts(providerOrgId: string, now: Date): Promise<AccountOutcome[]> {
    return this.createAccounts(providerAccounts(providerOrgId), now);
  }

  /** Creates (or confirms) the platform's revenue, payment clearing and payouts clearing accounts. */
  ensurePlatformAccounts(now: Date): Promise<AccountOutcome[]> {
    return this.createAccounts(platformAccounts(), now);
  }

  /** Accounts with their balances (a hot account's balance summed from its stripes). */
  async lookupAccounts(ids: readonly string[], client: LedgerDbClient = this.poolClient()): Promise<Account[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const { rows } = await client.query(
      `SELECT a.id, a.kind, a.owner_id, a.flags, a.created_at,
              a.debits_pending + COALESCE(s.dp, 0) AS debits_pending, a.debits_posted + COALESCE(s.dpo, 0) AS debits_posted,
              a.credits_pending + COALESCE(s.cp, 0) AS credits_pending, a.credits_posted + COALESCE(s.cpo, 0) AS credits_posted
         FROM ledger_accounts a
         LEFT JOIN (SELECT account_id, sum(debits_pending) dp, sum(debits_posted) dpo, sum(credits_pending) cp, sum(credits_posted) cpo
                      FROM ledger_account_stripes WHERE account_id = ANY($1::uuid[]) GROUP BY account_id) s ON s.account_id = a.id
        WHERE a.id = ANY($1::uuid[])`,
      [valid],
    );
    const byId = new Map(rows.map((row) => [row.id as string, toAccount(row)]));
    return valid.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }

  async lookupAccount(kind: AccountKind, ownerId: string | null = null): Promise<Account | undefined> {
    return (await this.lookupAccounts([accountIdFor(kind, ownerId)]))[0];
  }

  /** A customer org's spendable balance and what its open holds reserve. Zero for an org without accounts. */
  async getOrgBalance(orgId: string): Promise<{ availableMicros: bigint; heldMicros: bigint }> {
    const [available, held] = await Promise.all([this.lookupAccount('org_available', orgId), this.lookupAccount('org_held', orgId)]);
    return { availableMicros: available ? availableBalance(available) : 0n, heldMicros: held ? creditBalance(held) : 0n };
  }

  /** A provider org's payable (earned, not yet paid) and lifetime paid out. */
  async getProviderBalance(providerOrgId: string): Promise<{ payableMicros: bigint; paidOutMicros: bigint }> {
    const [payable, paidOut] = await Promise.all([this.lookupAccount('provider_payable', providerOrgId), this.lookupAccount('provider_paid_out', providerOrgId)]);
    return { payableMicros: payable ? availableBalance(payable) : 0n, paidOutMicros: paidOut ? creditBalance(paidOut) : 0n };
  }

  async lookupTransfers(ids: readonly string[]): Promise<Transfer[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const { rows } = await this.poolClient().query(`SELECT ${TRANSFER_COLUMNS} FROM ledger_transfers t WHERE t.id = ANY($1::uuid[])`, [valid]);
    const byId = new Map(rows.map((row) => [row.id as string, toTransfer(row)]));
    return valid.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }

  /** Where a hold stands; undefined when `pendingId` is not a pending transfer. */
  async pendingStatus(pendingId: string): Promise<PendingStatus | undefined> {
    if (!isUuid(pendingId)) return undefined;
    const { rows } = await this.poolClient().query(
      `SELECT t.flags, r.status FROM ledger_transfers t LEFT JOIN ledger_pending_resolutions r ON r.pending_id = t.id WHERE t.id = $1`,
      [pendingId],
    );
    const row = rows[0];
    if (!row || (Number(row.flags) & TransferFlags.pending) === 0) return undefined;
    return row.status ?? 'pending';
  }

  // -------------------------------------------------------------------------------------------
  // Transfers

  /**
   * Creates a batch of transfers atomically per linked chain; outcomes as in the pure core.
   * Concurrent calls are group-committed (see `PgLedgerStoreOptions.groupCommit`): each call's
   * outcome is exactly what it would be had the calls run one after another in arrival order.
   * A transaction takes two round trips: `BEGIN; lock; load` and `write; COMMIT`.
   */
  createTransfers(inputs: readonly TransferInput[], now: Date): Promise<TransferOutcome[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    // A bad clock value must fail its own call, never the group it would have joined.
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) return Promise.reject(new TypeError('createTransfers needs a valid Date for now'));
    if (this.maxFlushes <= 0) return this.withConnection((client) => this.runBatches(client, [{ inputs, now }], true).then((r) => r[0]!));
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, now, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.flushing < this.maxFlushes && this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxBatchesPerFlush);
      this.flushing++;
      this.withConnection((client) => this.runBatches(client, group, true))
        .then(
          (results) => group.forEach((batch, i) => batch.resolve(results[i]!)),
          (error: unknown) => group.forEach((batch) => batch.reject(error)),
        )
        .finally(() => {
          this.flushing--;
          this.pump();
        });
    }
  }

  /** The same as `createTransfers`, inside a transaction the caller already opened on `client`. */
  createTransfersIn(client: LedgerDbClient, inputs: readonly TransferInput[], now: Date): Promise<TransferOutcome[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return this.runBatch(client, inputs, now, false);
  }

  private async runBatch(client: LedgerDbClient, inputs: readonly TransferInput[], now: Date, ownTransaction: boolean): Promise<TransferOutcome[]> {
    return (await this.runBatches(client, [{ inputs, now }], ownTransaction))[0]!;
  }

  /** Runs batches one after another through the core over one locked view, and writes them together. */
  private async runBatches(
    client: LedgerDbClient,
    batches: readonly { inputs: readonly TransferInput[]; now: Date }[],
    ownTransaction: boolean,
  ): Promise<TransferOutcome[][]> {
    const all = batches.flatMap((b) => b.inputs);
    const pendingIds = unique(all.flatMap((t) => (t.pendingId !== undefined && isUuid(t.pendingId) ? [t.pendingId] : [])));
    const accountIds = unique(all.flatMap((t) => [t.debitAccountId, t.creditAccountId]).filter((id): id is string => id !== undefined && isUuid(id)));
    const transferIds = unique([...all.map((t) => t.id).filter(isUuid), ...pendingIds]);
    const state = await this.loadState(client, accountIds, pendingIds, transferIds, ownTransaction);
    const effects: LedgerEffects = { transfers: [], resolutions: [], accountDeltas: new Map() };
    const results = batches.map((batch) => {
      const outcome = coreCreateTransfers(state, batch.inputs, batch.now);
      mergeEffects(effects, outcome.effects);
      return outcome.results;
    });
    await this.writeEffects(client, effects, ownTransaction);
    return results;
  }

  /** Expires the holds whose timeout passed by `now` (at most `limit` per call); returns their ids. */
  async expirePendingTransfers(now: Date, limit = 500): Promise<string[]> {
    return this.transaction(async (client) => {
      const { rows } = await client.query(
        `SELECT t.id FROM ledger_transfers t
          WHERE t.expires_at IS NOT NULL AND t.expires_at <= $1 AND (t.flags & 2) <> 0
            AND NOT EXISTS (SELECT 1 FROM ledger_pending_resolutions r WHERE r.pending_id = t.id)
          ORDER BY t.expires_at, t.id LIMIT $2`,
        [now, limit],
      );
      const ids = rows.map((row) => row.id as string);
      if (ids.length === 0) return [];
      const state = await this.loadState(client, [], ids, ids, false);
      const { expired, effects } = coreExpirePendingTransfers(state, now);
      await this.writeEffects(client, effects, false);
      return expired;
    });
  }

  /**
   * Locks the ordinary accounts the batch touches (in id order), then loads the transfers it
   * refers to with their resolutions: the core's view of this batch. Both statements go in one
   * round trip (each still takes its own snapshot, so the load sees everything committed before
   * the locks were granted); with `begin`, so does the BEGIN.
   *
   * The statements carry their values as literals (simple-query protocol allows several
   * statements per round trip, parameters do not): every id is a validated UUID and every other
   * value goes through `sqlLiteral`.
   */
  private async loadState(client: LedgerDbClient, accountIds: string[], pendingIds: string[], transferIds: string[], begin: boolean): Promise<LedgerState> {
    const pending = uuidArray(pendingIds);
    const sql =
      (begin ? 'BEGIN;\n' : '') +
      `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts
        WHERE (flags & 4) = 0
          AND id IN (SELECT unnest(${uuidArray(accountIds)})
                     UNION SELECT debit_account_id FROM ledger_transfers WHERE id = ANY(${pending})
                     UNION SELECT credit_account_id FROM ledger_transfers WHERE id = ANY(${pending}))
        ORDER BY id
        FOR NO KEY UPDATE;
      SELECT ${TRANSFER_COLUMNS}, r.status AS resolution_status, r.transfer_id AS resolution_transfer_id, r.resolved_at
        FROM ledger_transfers t LEFT JOIN ledger_pending_resolutions r ON r.pending_id = t.id
       WHERE t.id = ANY(${uuidArray(transferIds)})`;
    const results = asResults(await client.query(sql));
    const [lockedRows, transferRows] = begin ? [results[1]!.rows, results[2]!.rows] : [results[0]!.rows, results[1]!.rows];
    const state: LedgerState = { accounts: new Map(), transfers: new Map(), resolutions: new Map() };
    for (const row of lockedRows) state.accounts.set(row.id, toAccount(row));
    for (const row of transferRows) {
      state.transfers.set(row.id, toTransfer(row));
      if (row.resolution_status) {
        state.resolutions.set(row.id, { pendingId: row.id, status: row.resolution_status, transferId: row.resolution_transfer_id, resolvedAt: row.resolved_at });
      }
    }
    // Hot accounts are not locked and enter the core with zero balances: they have no limit, so
    // their balance never decides an outcome, and only the deltas are written back.
    const referenced = new Set(accountIds);
    for (const id of pendingIds) {
      const transfer = state.transfers.get(id);
      if (transfer) referenced.add(transfer.debitAccountId).add(transfer.creditAccountId);
    }
    const unknown = [...referenced].filter((id) => !state.accounts.has(id) && !this.hotAccounts.has(id));
    if (unknown.length > 0) {
      const { rows } = await client.query(`SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = ANY($1::uuid[]) AND (flags & 4) <> 0`, [unknown]);
      for (const row of rows) this.hotAccounts.set(row.id, toAccount(row));
    }
    for (const id of referenced) {
      const hot = this.hotAccounts.get(id);
      if (hot && !state.accounts.has(id)) {
        state.accounts.set(id, { ...hot, debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n });
      }
    }
    return state;
  }

  /**
   * Writes a batch's effects in one statement (transfers, resolutions, account and stripe deltas
   * as data-modifying CTEs), followed by COMMIT in the same round trip when `commit` is set.
   */
  private async writeEffects(client: LedgerDbClient, effects: LedgerEffects, commit: boolean): Promise<void> {
    const statements: string[] = [];
    const plain: [string, bigint[]][] = [];
    const hot: [string, bigint[]][] = [];
    for (const [id, d] of effects.accountDeltas) {
      const row: [string, bigint[]] = [id, [d.debitsPending, d.debitsPosted, d.creditsPending, d.creditsPosted]];
      if (this.hotAccounts.has(id)) hot.push(row);
      else plain.push(row);
    }
    const stripe = this.nextStripe++ % this.stripes;
    // Several hot accounts in one batch: their stripe rows are written in id order (VALUES order),
    // the same order in every transaction.
    hot.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const ctes: string[] = [];
    if (effects.transfers.length > 0) {
      const values = effects.transfers.map((t) =>
        [
          uuidLiteral(t.id),
          uuidLiteral(t.debitAccountId),
          uuidLiteral(t.creditAccountId),
          bigintLiteral(t.amount),
          sqlLiteral(t.code),
          intLiteral(t.flags),
          t.pendingId === null ? 'NULL::uuid' : uuidLiteral(t.pendingId),
          intLiteral(t.timeoutSeconds),
          timestampLiteral(t.expiresAt),
          optionalUuidLiteral(t.links.jobId),
          optionalUuidLiteral(t.links.attemptId),
          t.links.paymentId === null ? 'NULL::text' : sqlLiteral(t.links.paymentId),
          optionalUuidLiteral(t.links.disputeId),
          optionalUuidLiteral(t.links.payoutId),
          timestampLiteral(t.timestamp),
        ].join(', '),
      );
      ctes.push(`ins_t AS (
          INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, code, flags, pending_id, timeout_seconds, expires_at,
                                        job_id, attempt_id, payment_id, dispute_id, payout_id, created_at)
          VALUES (${values.join('), (')}) RETURNING 1)`);
    }
    if (effects.resolutions.length > 0) {
      const values = effects.resolutions.map((r) =>
        [uuidLiteral(r.pendingId), sqlLiteral(r.status), r.transferId === null ? 'NULL::uuid' : uuidLiteral(r.transferId), timestampLiteral(r.resolvedAt)].join(', '),
      );
      ctes.push(`ins_r AS (INSERT INTO ledger_pending_resolutions (pending_id, status, transfer_id, resolved_at) VALUES (${values.join('), (')}) RETURNING 1)`);
    }
    const deltas = (rows: [string, bigint[]][]) => rows.map(([id, d]) => `(${uuidLiteral(id)}, ${d.map(bigintLiteral).join(', ')})`).join(', ');
    if (plain.length > 0) {
      ctes.push(`upd_a AS (
          UPDATE ledger_accounts a SET debits_pending = a.debits_pending + d.dp, debits_posted = a.debits_posted + d.dpo,
                                       credits_pending = a.credits_pending + d.cp, credits_posted = a.credits_posted + d.cpo
            FROM (VALUES ${deltas(plain)}) AS d(id, dp, dpo, cp, cpo)
           WHERE a.id = d.id RETURNING 1)`);
    }
    if (hot.length > 0) {
      // An upsert, so a stripe row that does not exist yet (more stripes configured later) is created, never skipped.
      ctes.push(`upd_s AS (
          INSERT INTO ledger_account_stripes AS s (account_id, stripe, debits_pending, debits_posted, credits_pending, credits_posted)
          SELECT d.id, ${stripe}, d.dp, d.dpo, d.cp, d.cpo FROM (VALUES ${deltas(hot)}) AS d(id, dp, dpo, cp, cpo)
          ON CONFLICT (account_id, stripe) DO UPDATE SET
            debits_pending = s.debits_pending + EXCLUDED.debits_pending, debits_posted = s.debits_posted + EXCLUDED.debits_posted,
            credits_pending = s.credits_pending + EXCLUDED.credits_pending, credits_posted = s.credits_posted + EXCLUDED.credits_posted
          RETURNING 1)`);
    }
    const expected = { transfers: effects.transfers.length, accounts: plain.length, stripes: hot.length };
    if (ctes.length > 0) {
      statements.push(
        `WITH ${ctes.join(',\n')}
         SELECT ${effects.transfers.length > 0 ? '(SELECT count(*) FROM ins_t)' : '0'} AS transfers,
                ${plain.length > 0 ? '(SELECT count(*) FROM upd_a)' : '0'} AS accounts,
                ${hot.length > 0 ? '(SELECT count(*) FROM upd_s)' : '0'} AS stripes`,
      );
    }
    if (commit) statements.push('COMMIT');
    if (statements.length === 0) return;
    const results = asResults(await client.query(statements.join(';\n')));
    if (ctes.length > 0) {
      // Every row written is accounted for: accounts were locked (so exist), stripes are upserted,
      // transfers insert or fail. A mismatch would be a bug; say so loudly.
      const counts = results[0]!.rows[0];
      if (Number(counts.transfers) !== expected.transfers || Number(counts.accounts) !== expected.accounts || Number(counts.stripes) !== expected.stripes) {
        throw new Error(`ledger write incomplete: ${JSON.stringify(counts)} for ${JSON.stringify(expected)}`);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Usage, settlement, payments, payouts

  /**
   * Inserts usage records in one statement; a record whose attempt already has one answers
   * `exists` when the stored record has the same fields, `exists_with_different_fields` otherwise.
   */
  private async insertUsages(client: LedgerDbClient, usages: readonly UsageRecord[], now: Date): Promise<UsageRecordResult[]> {
    if (usages.length === 0) return [];
    const column = <T>(pick: (usage: UsageRecord) => T) => usages.map(pick);
    const inserted = await client.query(
      `INSERT INTO ledger_usage_records (usage_key, attempt_id, job_id, org_id, provider_org_id, gpu_model, gpu_count, billable_seconds,
                                         price_micros_per_gpu_hour, cost_micros, charged_micros, running_at, ended_at, end_reason, recorded_at)
       SELECT u.*, $15::timestamptz FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::int[], $8::bigint[], $9::bigint[],
                                                $10::bigint[], $11::bigint[], $12::timestamptz[], $13::timestamptz[], $14::text[]) AS u
       ON CONFLICT DO NOTHING RETURNING usage_key`,
      [
        column((u) => u.usageKey),
        column((u) => u.attemptId),
        column((u) => u.jobId),
        column((u) => u.orgId),
        column((u) => u.providerOrgId),
        column((u) => u.gpuModel),
        column((u) => u.gpuCount),
        column((u) => u.billableSeconds),
        column((u) => u.priceMicrosPerGpuHour.toString()),
        column((u) => u.costMicros.toString()),
        column((u) => u.chargedMicros.toString()),
        column((u) => u.runningAt),
        column((u) => u.endedAt),
        column((u) => u.endReason),
        now,
      ],
    );
    const fresh = new Set(inserted.rows.map((row) => row.usage_key as string));
    const results: UsageRecordResult[] = [];
    for (const usage of usages) results.push(fresh.has(usage.usageKey) ? 'ok' : await this.compareUsage(client, usage));
    return results;
  }

  /** A usage record that was there already: the same fields (`exists`) or not. */
  private async compareUsage(client: LedgerDbClient, usage: UsageRecord): Promise<UsageRecordResult> {
    const { rows } = await client.query(
      `SELECT 1 FROM ledger_usage_records WHERE usage_key = $1 AND attempt_id = $2 AND job_id = $3 AND org_id = $4 AND provider_org_id = $5
          AND gpu_model = $6 AND gpu_count = $7 AND billable_seconds = $8 AND price_micros_per_gpu_hour = $9 AND cost_micros = $10
          AND charged_micros = $11 AND running_at IS NOT DISTINCT FROM $12 AND ended_at IS NOT DISTINCT FROM $13 AND end_reason IS NOT DISTINCT FROM $14`,
      [
        usage.usageKey,
        usage.attemptId,
        usage.jobId,
        usage.orgId,
        usage.providerOrgId,
        usage.gpuModel,
        usage.gpuCount,
        usage.billableSeconds,
        usage.priceMicrosPerGpuHour.toString(),
        usage.costMicros.toString(),
        usage.chargedMicros.toString(),
        usage.runningAt,
        usage.endedAt,
        usage.endReason,
      ],
    );
    return rows.length === 1 ? 'exists' : 'exists_with_different_fields';
  }

  /**
   * Settles a finished attempt: its usage record and its linked batch, in one transaction.
   * A replay answers `exists` for both; a batch that fails writes nothing (not even the usage).
   */
  async settleAttempt(plan: Pick<AttemptSettlementPlan, 'transfers' | 'usage'>, now: Date): Promise<SettlementResult> {
    return (await this.settleAttempts([plan], now))[0]!;
  }

  /**
   * Settles many finished attempts in one transaction, each exactly as `settleAttempt` would: each
   * attempt's transfers are their own linked chain, applied entirely or not at all, and only an
   * attempt whose chain applied gets its usage record. Should any attempt already have a usage
   * record with other figures, nothing of the batch is kept and each attempt is settled alone.
   */
  async settleAttempts(plans: readonly Pick<AttemptSettlementPlan, 'transfers' | 'usage'>[], now: Date): Promise<SettlementResult[]> {
    if (plans.length === 0) return [];
    try {
      return await this.transaction(async (client) => {
        const outcomes = await this.createTransfersIn(client, plans.flatMap((plan) => plan.transfers), now);
        let offset = 0;
        // Each plan's outcomes, indexed within the plan (as a batch of its own would report them).
        const results = plans.map((plan) => outcomes.slice(offset, (offset += plan.transfers.length)).map((outcome, index) => ({ ...outcome, index })));
        const applied = plans.flatMap((_, i) => (results[i]!.every((r) => isTransferApplied(r.result)) ? [i] : []));
        const usages = await this.insertUsages(client, applied.map((i) => plans[i]!.usage), now);
        if (usages.includes('exists_with_different_fields')) {
          // Another usage record for an attempt: apply nothing of it, and say so.
          if (plans.length > 1) throw new Rollback<SettlementResult[] | null>(null);
          const undone = results[0]!.map((r) => (r.result === 'ok' ? { ...r, result: 'linked_event_failed' as const } : r));
          throw new Rollback<SettlementResult[] | null>([{ results: undone, usage: 'exists_with_different_fields' }]);
        }
        const usageOf = new Map(applied.map((planIndex, i) => [planIndex, usages[i]!]));
        return plans.map((_, i): SettlementResult => ({ results: results[i]!, usage: usageOf.get(i) ?? 'not_recorded' }));
      });
    } catch (error) {
      if (!(error instanceof Rollback)) throw error;
      const value = error.value as SettlementResult[] | null;
      if (value) return value;
      const alone: SettlementResult[] = [];
      for (const plan of plans) alone.push(...(await this.settleAttempts([plan], now)));
      return alone;
    }
  }

  /**
   * Handles a verified payment webhook event once per event id. A succeeded top-up credits the
   * org (the transfer id derives from the payment id, so two events for one payment credit once).
   */
  async applyPaymentEvent(event: PaymentEvent, processor: string, now: Date): Promise<PaymentEventOutcome> {
    return this.transaction(async (client) => {
      const inserted = await client.query(
        `INSERT INTO ledger_payment_events (event_id, processor, type, payment_id, org_id, amount_micros, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING event_id`,
        [event.eventId, processor, event.type, event.paymentId, event.orgId, event.amountMicros.toString(), now],
      );
      if (inserted.rows.length === 0) return { status: 'duplicate_event' as const };
      if (event.type !== 'top_up.succeeded') return { status: 'applied' as const, transferResult: null };
      const [outcome] = await this.createTransfersIn(client, [planTopUp({ orgId: event.orgId, paymentId: event.paymentId, amountMicros: event.amountMicros })], now);
      return { status: 'applied' as const, transferResult: outcome!.result };
    });
  }

  /**
   * Pays a provider what is payable and older than the dispute window, when it reaches the
   * minimum: a payout record and a transfer payable → payouts clearing, in one transaction.
   */
  async createPayout(input: {
    providerOrgId: string;
    payoutId: string;
    now: Date;
    disputeWindowMs?: number;
    minimumPayoutMicros?: bigint;
  }): Promise<CreatePayoutResult> {
    const payableId = accountIdFor('provider_payable', input.providerOrgId);
    const disputeWindowMs = input.disputeWindowMs ?? DEFAULT_DISPUTE_WINDOW_MS;
    return this.transaction(async (client) => {
      // Lock both accounts of the payout transfer now, in id order like every other transaction.
      const { rows: locked } = await client.query(`SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`, [
        [payableId, accountIdFor('platform_payouts_clearing')],
      ]);
      const rows = locked.filter((row) => row.id === payableId);
      if (!rows[0]) return { kind: 'nothing_due' as const, eligibleMicros: 0n, reason: 'nothing_eligible' as const };
      const payable = toAccount(rows[0]);
      const credits = await client.query(
        `SELECT COALESCE(sum(amount), 0) AS total FROM ledger_transfers
          WHERE credit_account_id = $1 AND created_at <= $2 AND (flags & 10) = 0`,
        [payableId, payoutCutoff(input.now, disputeWindowMs)],
      );
      const plan = planPayout({
        providerOrgId: input.providerOrgId,
        payoutId: input.payoutId,
        now: input.now,
        payableBalanceMicros: availableBalance(payable),
        creditsPostedBeforeCutoffMicros: BigInt(credits.rows[0].total),
        debitsMicros: payable.debitsPosted + payable.debitsPending,
        disputeWindowMs,
        minimumPayoutMicros: input.minimumPayoutMicros ?? DEFAULT_MINIMUM_PAYOUT_MICROS,
      });
      if (plan.kind !== 'payout') return plan;
      const [outcome] = await this.createTransfersIn(client, [plan.transfer], input.now);
      if (outcome!.result === 'ok') {
        await client.query(`INSERT INTO ledger_payouts (id, provider_org_id, amount_micros, cutoff, transfer_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
          plan.payout.payoutId,
          plan.payout.providerOrgId,
          plan.payout.amountMicros.toString(),
          plan.payout.cutoff,
          plan.payout.transferId,
          input.now,
        ]);
      }
      return { kind: 'payout' as const, plan, result: outcome!.result };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  /**
   * Statement lines of the given accounts, newest first, `limit` per page. Each line names its
   * transfer, and through it the job attempt (with the metered GPU, seconds, rate and amount) or
   * the payment it came from. Pass `nextCursor` back as `cursor` for the next page.
   */
  async listStatement(input: { accountIds: readonly string[]; cursor?: string | null; limit?: number }): Promise<StatementPage> {
    const limit = Math.min(Math.max(input.limit ?? 50, 1), 500);
    const accountIds = input.accountIds.filter(isUuid);
    const before = input.cursor && /^\d{1,19}$/.test(input.cursor) ? input.cursor : MAX_BIGINT;
    const { rows } = await this.poolClient().query(
      `WITH page AS (
         SELECT id, seq FROM (SELECT id, seq FROM ledger_transfers WHERE debit_account_id = ANY($1::uuid[]) AND seq < $2::bigint ORDER BY seq DESC LIMIT $3) d
         UNION
         SELECT id, seq FROM (SELECT id, seq FROM ledger_transfers WHERE credit_account_id = ANY($1::uuid[]) AND seq < $2::bigint ORDER BY seq DESC LIMIT $3) c
         ORDER BY seq DESC LIMIT $3)
       SELECT t.seq, ${TRANSFER_COLUMNS}, r.status AS resolution_status,
              u.gpu_model, u.gpu_count, u.billable_seconds, u.price_micros_per_gpu_hour, u.cost_micros, u.charged_micros
         FROM page JOIN ledger_transfers t ON t.id = page.id
         LEFT JOIN ledger_pending_resolutions r ON r.pending_id = t.id
         LEFT JOIN ledger_usage_records u ON u.attempt_id = t.attempt_id
        ORDER BY t.seq DESC`,
      [accountIds, before, limit + 1],
    );
    const ids = new Set(accountIds);
    const lines = rows.slice(0, limit).map((row): StatementLine => {
      const transfer = toTransfer(row);
      const debit = ids.has(transfer.debitAccountId);
      const isPending = (transfer.flags & TransferFlags.pending) !== 0;
      return {
        cursor: String(row.seq),
        transferId: transfer.id,
        timestamp: transfer.timestamp,
        code: transfer.code,
        direction: debit ? 'debit' : 'credit',
        accountId: debit ? transfer.debitAccountId : transfer.creditAccountId,
        counterpartyAccountId: debit ? transfer.creditAccountId : transfer.debitAccountId,
        amountMicros: transfer.amount,
        pendingStatus: isPending ? (row.resolution_status ?? 'pending') : null,
        resolvesPendingId: transfer.pendingId,
        links: transfer.links,
        usage:
          row.gpu_model === null || row.gpu_model === undefined
            ? null
            : {
                gpuModel: row.gpu_model,
                gpuCount: Number(row.gpu_count),
                billableSeconds: Number(row.billable_seconds),
                priceMicrosPerGpuHour: BigInt(row.price_micros_per_gpu_hour),
                costMicros: BigInt(row.cost_micros),
                chargedMicros: BigInt(row.charged_micros),
              },
      };
    });
    return { lines, nextCursor: rows.length > limit ? lines[lines.length - 1]!.cursor : null };
  }

  /** An org's statement: its available account (top-ups, holds, charges, releases, refunds). */
  listOrgStatement(orgId: string, page: { cursor?: string | null; limit?: number } = {}): Promise<StatementPage> {
    return this.listStatement({ accountIds: [accountIdFor('org_available', orgId)], ...page });
  }

  /** A provider's earnings statement: its payable account (shares of charges, payouts, reversals). */
  listProviderStatement(providerOrgId: string, page: { cursor?: string | null; limit?: number } = {}): Promise<StatementPage> {
    return this.listStatement({ accountIds: [accountIdFor('provider_payable', providerOrgId)], ...page });
  }

  // -------------------------------------------------------------------------------------------
  // Verification

  /**
   * Checks the ledger's invariants in the database; returns one sentence per violation:
   * the ledger sums to zero, no limited account is over its limit, every balance equals an
   * independent replay of the transfers table (so held funds equal the open holds), and every
   * post/void is recorded as its hold's one resolution.
   */
  async checkInvariants(): Promise<string[]> {
    const client = this.poolClient();
    const violations: string[] = [];
    const sums = await client.query(`
      SELECT sum(dp) AS dp, sum(dpo) AS dpo, sum(cp) AS cp, sum(cpo) AS cpo FROM (
        SELECT debits_pending dp, debits_posted dpo, credits_pending cp, credits_posted cpo FROM ledger_accounts
        UNION ALL SELECT debits_pending, debits_posted, credits_pending, credits_posted FROM ledger_account_stripes) x`);
    const s = sums.rows[0];
    if (BigInt(s.dpo ?? 0) !== BigInt(s.cpo ?? 0)) violations.push(`posted debits ${s.dpo} != posted credits ${s.cpo}`);
    if (BigInt(s.dp ?? 0) !== BigInt(s.cp ?? 0)) violations.push(`pending debits ${s.dp} != pending credits ${s.cp}`);
    const limits = await client.query(
      `SELECT id, kind FROM ledger_accounts WHERE ((flags & 1) <> 0 AND debits_pending + debits_posted > credits_posted)
                                              OR ((flags & 2) <> 0 AND credits_pending + credits_posted > debits_posted)`,
    );
    for (const row of limits.rows) violations.push(`account ${row.id} (${row.kind}) is over its limit`);
    const replay = await client.query(`
      WITH legs AS (
        SELECT t.debit_account_id AS account_id,
               CASE WHEN (t.flags & 2) <> 0 AND r.pending_id IS NULL THEN t.amount ELSE 0 END AS dp,
               CASE WHEN (t.flags & 10) = 0 THEN t.amount ELSE 0 END AS dpo, 0::bigint AS cp, 0::bigint AS cpo
          FROM ledger_transfers t LEFT JOIN ledger_pending_resolutions r ON r.pending_id = t.id
        UNION ALL
        SELECT t.credit_account_id, 0, 0,
               CASE WHEN (t.flags & 2) <> 0 AND r.pending_id IS NULL THEN t.amount ELSE 0 END,
               CASE WHEN (t.flags & 10) = 0 THEN t.amount ELSE 0 END
          FROM ledger_transfers t LEFT JOIN ledger_pending_resolutions r ON r.pending_id = t.id),
      replayed AS (SELECT account_id, sum(dp) dp, sum(dpo) dpo, sum(cp) cp, sum(cpo) cpo FROM legs GROUP BY account_id),
      stored AS (
        SELECT a.id AS account_id, a.debits_pending + COALESCE(sum(s.debits_pending), 0) dp, a.debits_posted + COALESCE(sum(s.debits_posted), 0) dpo,
               a.credits_pending + COALESCE(sum(s.credits_pending), 0) cp, a.credits_posted + COALESCE(sum(s.credits_posted), 0) cpo
          FROM ledger_accounts a LEFT JOIN ledger_account_stripes s ON s.account_id = a.id GROUP BY a.id)
      SELECT COALESCE(st.account_id, rp.account_id) AS account_id, st.dp, st.dpo, st.cp, st.cpo, rp.dp AS rdp, rp.dpo AS rdpo, rp.cp AS rcp, rp.cpo AS rcpo
        FROM stored st FULL JOIN replayed rp ON rp.account_id = st.account_id
       WHERE COALESCE(st.dp, 0) <> COALESCE(rp.dp, 0) OR COALESCE(st.dpo, 0) <> COALESCE(rp.dpo, 0)
          OR COALESCE(st.cp, 0) <> COALESCE(rp.cp, 0) OR COALESCE(st.cpo, 0) <> COALESCE(rp.cpo, 0)`);
    for (const row of replay.rows) {
      violations.push(
        `account ${row.account_id} stores (${row.dp}, ${row.dpo}, ${row.cp}, ${row.cpo}) but its transfers replay to (${row.rdp}, ${row.rdpo}, ${row.rcp}, ${row.rcpo})`,
      );
    }
    const orphans = await client.query(`
      SELECT t.id FROM ledger_transfers t
       WHERE t.pending_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM ledger_pending_resolutions r WHERE r.pending_id = t.pending_id AND r.transfer_id = t.id)
      UNION ALL
      SELECT r.pending_id FROM ledger_pending_resolutions r JOIN ledger_transfers t ON t.id = r.pending_id WHERE (t.flags & 2) = 0`);
    for (const row of orphans.rows) violations.push(`transfer ${row.id} and its hold's resolution disagree`);
    return violations;
  }

  /** Reads go straight to the pool (one statement each, no transaction needed). */
  private poolClient(): LedgerDbClient {
    const pool = this.pool as unknown as Partial<LedgerDbClient>;
    if (typeof pool.query === 'function') return pool as LedgerDbClient;
    return {
      query: async (text: any, values?: unknown[]) => {
        const client = await this.pool.connect();
        try {
          return await client.query(text, values);
        } finally {
          client.release();
        }
      },
    };
  }
}

// Literals for the fused multi-statement round trips. Ids are validated UUIDs; text is quoted the
// way pg's own escapeLiteral does (doubling quotes, E'' with doubled backslashes when needed).

function uuidLiteral(id: string): string {
  if (!isUuid(id)) throw new Error('refusing a non-UUID id in ledger SQL');
  return `'${id}'::uuid`;
}

function optionalUuidLiteral(id: string | null): string {
  return id === null ? 'NULL::uuid' : uuidLiteral(id);
}

function uuidArray(ids: readonly string[]): string {
  for (const id of ids) if (!isUuid(id)) throw new Error('refusing a non-UUID id in ledger SQL');
  return `'{${ids.join(',')}}'::uuid[]`;
}

function bigintLiteral(value: bigint): string {
  return `${value.toString()}::bigint`;
}

function intLiteral(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error('refusing a non-integer in ledger SQL');
  return `${value}::int`;
}

function timestampLiteral(value: Date | null): string {
  return value === null ? 'NULL::timestamptz' : `'${value.toISOString()}'::timestamptz`;
}

/** A quoted SQL text literal, safe whatever `standard_conforming_strings` says. */
function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('text with NUL cannot be stored');
  const quoted = value.replace(/'/g, "''");
  return value.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

function asResults(result: unknown): { rows: any[] }[] {
  return Array.isArray(result) ? result : [result as { rows: any[] }];
}

/** Thrown inside a transaction to roll it back and still answer `value`. */
class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super('rolled back');
  }
}

function mergeEffects(into: LedgerEffects, from: LedgerEffects): void {
  into.transfers.push(...from.transfers);
  into.resolutions.push(...from.resolutions);
  for (const [id, d] of from.accountDeltas) {
    const sum = into.accountDeltas.get(id);
    if (!sum) into.accountDeltas.set(id, { ...d });
    else {
      sum.debitsPending += d.debitsPending;
      sum.debitsPosted += d.debitsPosted;
      sum.creditsPending += d.creditsPending;
      sum.creditsPosted += d.creditsPosted;
    }
  }
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

