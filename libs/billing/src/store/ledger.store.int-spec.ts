import { createTestDatabase, type TestDatabase } from '@anneal/test/support';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIdFor, deriveUuid, orgAccounts, platformAccounts, providerAccounts } from '../ledger/account-ids.js';
import { Ledger } from '../ledger/ledger.core.js';
import { AccountFlags, TransferFlags, type TransferInput } from '../ledger/ledger.types.js';
import { interpretOps, ledgerOpArbitrary, scenario } from '../ledger/testing/ledger-ops.js';
import { TestPaymentProcessor } from '../payments/test-payment.processor.js';
import { jobHoldId, planAttemptSettlement, planJobHold, planTopUp } from '../settlement/settlement.planner.js';
import { applyLedgerMigrations, LEDGER_MIGRATIONS } from './ledger.migrations.js';
import { PgLedgerStore } from './ledger.store.js';

const T0 = new Date('2026-06-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
let counter = 0;
const newId = (label = 'int') => deriveUuid('int-spec', label, String(counter++), String(process.pid));
const clearing = accountIdFor('platform_payment_clearing');
const revenue = accountIdFor('platform_revenue');

let db: TestDatabase;
let pool: pg.Pool;
let store: PgLedgerStore;

async function newOrg(topUpMicros = 0n): Promise<string> {
  const orgId = newId('org');
  expect((await store.ensureOrgAccounts(orgId, T0)).map((o) => o.result)).toEqual(['ok', 'ok']);
  if (topUpMicros > 0n) {
    const [outcome] = await store.createTransfers([planTopUp({ orgId, paymentId: `pi_${orgId}`, amountMicros: topUpMicros })], T0);
    expect(outcome!.result).toBe('ok');
  }
  return orgId;
}

async function newProvider(): Promise<string> {
  const providerOrgId = newId('provider');
  await store.ensureProviderAccounts(providerOrgId, T0);
  return providerOrgId;
}

beforeAll(async () => {
  db = await createTestDatabase('billing');
  pool = new pg.Pool({ connectionString: db.url, max: 10 });
  // Idle connections are cut when the database is dropped at the end: expected, not a failure.
  pool.on('error', () => {});
  const client = await pool.connect();
  try {
    expect(await applyLedgerMigrations(client)).toEqual(LEDGER_MIGRATIONS.map((m) => m.id));
    expect(await applyLedgerMigrations(client)).toEqual([]);
  } finally {
    client.release();
  }
  store = new PgLedgerStore(pool, { hotAccountStripes: 8 });
  expect((await store.ensurePlatformAccounts(T0)).map((o) => o.result)).toEqual(['ok', 'ok', 'ok']);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('schema', () => {
  it('keeps shipped migrations frozen and ids unique', () => {
    expect(Object.isFrozen(LEDGER_MIGRATIONS)).toBe(true);
    expect(LEDGER_MIGRATIONS.every((m) => Object.isFrozen(m))).toBe(true);
    expect(new Set(LEDGER_MIGRATIONS.map((m) => m.id)).size).toBe(LEDGER_MIGRATIONS.length);
  });

  it('rolls back cleanly with down and up again', async () => {
    const scratch = await createTestDatabase('billingdown');
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      for (const m of LEDGER_MIGRATIONS) await client.query(m.up);
      for (const m of [...LEDGER_MIGRATIONS].reverse()) await client.query(m.down);
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ledger\\_%'`);
      expect(rows[0].n).toBe(0);
      for (const m of LEDGER_MIGRATIONS) await client.query(m.up);
    } finally {
      await client.end();
      await scratch.drop();
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE of transfers and resolutions', async () => {
    const orgId = await newOrg(1_000n);
    const holdId = newId();
    await store.createTransfers(
      [
        { id: holdId, debitAccountId: accountIdFor('org_available', orgId), creditAccountId: accountIdFor('org_held', orgId), amount: 10n, code: 'hold', flags: TransferFlags.pending },
        { id: newId(), pendingId: holdId, code: 'release', flags: TransferFlags.voidPending },
      ],
      T0,
    );
    await expect(pool.query(`UPDATE ledger_transfers SET amount = amount + 1 WHERE id = $1`, [holdId])).rejects.toMatchObject({ code: '23001' });
    await expect(pool.query(`DELETE FROM ledger_transfers WHERE id = $1`, [holdId])).rejects.toThrow(/append-only/);
    await expect(pool.query(`TRUNCATE ledger_transfers CASCADE`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM ledger_pending_resolutions WHERE pending_id = $1`, [holdId])).rejects.toThrow(/append-only/);
    await expect(pool.query(`UPDATE ledger_usage_records SET charged_micros = 0`)).resolves.toBeDefined(); // no rows: nothing to refuse
    const { rows } = await pool.query(`SELECT amount FROM ledger_transfers WHERE id = $1`, [holdId]);
    expect(rows[0].amount).toBe('10');
  });

  it('refuses, in the database itself, a customer balance below zero', async () => {
    const orgId = await newOrg(5n);
    await expect(pool.query(`UPDATE ledger_accounts SET debits_posted = debits_posted + 6 WHERE id = $1`, [accountIdFor('org_available', orgId)])).rejects.toMatchObject({
      code: '23514',
    });
  });

  it('creates hot accounts with their stripes, and accounts idempotently', async () => {
    expect((await store.ensurePlatformAccounts(T0)).map((o) => o.result)).toEqual(['exists', 'exists', 'exists']);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ledger_account_stripes WHERE account_id = $1`, [revenue]);
    expect(rows[0].n).toBe(8);
    const orgId = newId('org');
    expect((await store.createAccounts([{ ...orgAccounts(orgId)[0]!, flags: AccountFlags.hot | AccountFlags.debitsMustNotExceedCredits }], T0))[0]!.result).toBe(
      'flags_are_mutually_exclusive',
    );
    await store.ensureOrgAccounts(orgId, T0);
    expect((await store.createAccounts([{ ...orgAccounts(orgId)[0]!, flags: 0 }], T0))[0]!.result).toBe('exists_with_different_fields');
    expect((await store.createAccounts([{ ...orgAccounts(orgId)[0]!, id: newId() }], T0))[0]!.result).toBe('exists_with_different_fields');
  });
});

describe('transfers', () => {
  it('answers ok, exists and exists_with_different_fields per id', async () => {
    const orgId = await newOrg(1_000n);
    const transfer: TransferInput = { id: newId(), debitAccountId: accountIdFor('org_available', orgId), creditAccountId: revenue, amount: 300n, code: 'transfer' };
    expect((await store.createTransfers([transfer], T0))[0]!.result).toBe('ok');
    expect((await store.createTransfers([transfer], at(5)))[0]!.result).toBe('exists');
    expect((await store.createTransfers([{ ...transfer, amount: 301n }], T0))[0]!.result).toBe('exists_with_different_fields');
    expect((await store.createTransfers([{ ...transfer, links: { paymentId: 'x' } }], T0))[0]!.result).toBe('exists_with_different_fields');
    expect((await store.createTransfers([{ ...transfer, id: 'not-a-uuid' }], T0))[0]!.result).toBe('id_invalid');
    expect((await store.createTransfers([{ ...transfer, id: newId(), amount: 701n }], T0))[0]!.result).toBe('insufficient_funds');
    expect((await store.createTransfers([{ ...transfer, id: newId(), debitAccountId: newId() }], T0))[0]!.result).toBe('debit_account_not_found');
    expect(await store.getOrgBalance(orgId)).toEqual({ availableMicros: 700n, heldMicros: 0n });
    expect(await store.lookupTransfers([transfer.id])).toMatchObject([{ id: transfer.id, amount: 300n, timestamp: T0 }]);
    // Text reaches the database as data, never as SQL.
    const hostile = `pi_'); DROP TABLE ledger_accounts; -- \\' \\\\ ü`;
    const topUp = planTopUp({ orgId, paymentId: hostile, amountMicros: 5n });
    expect((await store.createTransfers([topUp], T0))[0]!.result).toBe('ok');
    expect((await store.lookupTransfers([topUp.id]))[0]!.links.paymentId).toBe(hostile);
  });

  it('posts holds in part, voids them, expires them, and never resolves one twice', async () => {
    const orgId = await newOrg(1_000n);
    const available = accountIdFor('org_available', orgId);
    const held = accountIdFor('org_held', orgId);
    const hold = (amount: bigint, timeoutSeconds = 0): TransferInput => ({
      id: newId(),
      debitAccountId: available,
      creditAccountId: held,
      amount,
      code: 'hold',
      flags: TransferFlags.pending,
      timeoutSeconds,
    });
    const [h1, h2, h3] = [hold(400n), hold(300n), hold(200n, 60)];
    expect((await store.createTransfers([h1!, h2!, h3!], T0)).map((o) => o.result)).toEqual(['ok', 'ok', 'ok']);
    expect(await store.getOrgBalance(orgId)).toEqual({ availableMicros: 100n, heldMicros: 900n });
    expect((await store.createTransfers([hold(101n)], T0))[0]!.result).toBe('insufficient_funds');

    const post = { id: newId(), pendingId: h1!.id, amount: 150n, code: 'charge' as const, flags: TransferFlags.postPending };
    expect((await store.createTransfers([post], at(1)))[0]!.result).toBe('ok');
    expect((await store.createTransfers([post], at(2)))[0]!.result).toBe('exists');
    expect((await store.createTransfers([{ ...post, id: newId() }], at(2)))[0]!.result).toBe('pending_already_resolved');
    expect(await store.pendingStatus(h1!.id)).toBe('posted');

    expect((await store.createTransfers([{ id: newId(), pendingId: h2!.id, code: 'release', flags: TransferFlags.voidPending }], at(3)))[0]!.result).toBe('ok');
    expect((await store.createTransfers([{ id: newId(), pendingId: h2!.id, code: 'release', flags: TransferFlags.voidPending }], at(3)))[0]!.result).toBe(
      'pending_already_resolved',
    );
    expect(await store.expirePendingTransfers(at(59))).toEqual([]);
    expect((await store.createTransfers([{ id: newId(), pendingId: h3!.id, code: 'charge', flags: TransferFlags.postPending }], at(60)))[0]!.result).toBe(
      'pending_transfer_expired',
    );
    expect(await store.expirePendingTransfers(at(61))).toContain(h3!.id);
    expect(await store.pendingStatus(h3!.id)).toBe('expired');
    // held: 150 posted then still sitting in held (no onward transfer in this test); available: 1000 − 150.
    expect(await store.getOrgBalance(orgId)).toEqual({ availableMicros: 850n, heldMicros: 150n });
    expect(await store.checkInvariants()).toEqual([]);
  });

  it('applies a linked batch entirely or not at all', async () => {
    const orgId = await newOrg(1_000n);
    const providerOrgId = await newProvider();
    const available = accountIdFor('org_available', orgId);
    const batch: TransferInput[] = [
      { id: newId(), debitAccountId: available, creditAccountId: accountIdFor('provider_payable', providerOrgId), amount: 600n, code: 'transfer', flags: TransferFlags.linked },
      { id: newId(), debitAccountId: available, creditAccountId: revenue, amount: 500n, code: 'transfer' },
    ];
    expect((await store.createTransfers(batch, T0)).map((o) => o.result)).toEqual(['linked_event_failed', 'insufficient_funds']);
    expect(await store.lookupTransfers(batch.map((t) => t.id))).toEqual([]);
    expect(await store.getOrgBalance(orgId)).toEqual({ availableMicros: 1_000n, heldMicros: 0n });
    batch[1]!.amount = 400n;
    expect((await store.createTransfers(batch, T0)).map((o) => o.result)).toEqual(['ok', 'ok']);
    expect((await store.createTransfers(batch, T0)).map((o) => o.result)).toEqual(['exists', 'exists']);
    expect(await store.getOrgBalance(orgId)).toEqual({ availableMicros: 0n, heldMicros: 0n });
  });
});

describe('the pure core and the store agree', () => {
  it('gives the same results and balances for the same random operations', async () => {
    // A database of its own, so the reference ledger mirrors every row in it.
    const own = await createTestDatabase('billingagree');
    const ownPool = new pg.Pool({ connectionString: own.url, max: 4 });
    ownPool.on('error', () => {});
    try {
      const client = await ownPool.connect();
      await applyLedgerMigrations(client).finally(() => client.release());
      const agreeing = new PgLedgerStore(ownPool, { hotAccountStripes: 4 });
      const reference = new Ledger();
      reference.createAccounts(platformAccounts(), T0);
      await agreeing.ensurePlatformAccounts(T0);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(ledgerOpArbitrary(), { minLength: 10, maxLength: 40 }), async (ops) => {
          const label = `agree-${run++}`;
          const sc = scenario(label);
          const accounts = [...sc.orgIds.flatMap(orgAccounts), ...sc.providerIds.flatMap(providerAccounts)];
          expect((await agreeing.createAccounts(accounts, T0)).map((o) => o.result)).toEqual(reference.createAccounts(accounts, T0).map((o) => o.result));
          for (const step of interpretOps(label, sc, ops, T0)) {
            if (step.kind === 'expire') {
              const expected = reference.expirePendingTransfers(step.now).sort();
              expect((await agreeing.expirePendingTransfers(step.now, 10_000)).sort()).toEqual(expected);
            } else {
              const expected = reference.createTransfers(step.inputs, step.now).map((o) => o.result);
              expect((await agreeing.createTransfers(step.inputs, step.now)).map((o) => o.result)).toEqual(expected);
            }
          }
          const ids = [...reference.state.accounts.keys()];
          const balances = (a: { id: string; debitsPending: bigint; debitsPosted: bigint; creditsPending: bigint; creditsPosted: bigint }) => [
            a.id,
            a.debitsPending,
            a.debitsPosted,
            a.creditsPending,
            a.creditsPosted,
          ];
          expect((await agreeing.lookupAccounts(ids)).map(balances)).toEqual(ids.map((id) => balances(reference.lookupAccount(id)!)));
        }),
        { numRuns: 12 },
      );
      expect(reference.checkInvariants()).toEqual([]);
      expect(await agreeing.checkInvariants()).toEqual([]);
      const { rows } = await ownPool.query('SELECT count(*)::int AS n FROM ledger_transfers');
      expect(rows[0].n).toBe(reference.state.transfers.size);
    } finally {
      await ownPool.end();
      await own.drop();
    }
  });
});

describe('concurrency', () => {
  it.each([
    ['group commit', () => store],
    ['one transaction per call', () => new PgLedgerStore(pool, { hotAccountStripes: 8, groupCommit: { maxConcurrentFlushes: 0 } })],
  ])('8 parallel callers over shared accounts (%s): no deadlock, nothing negative, invariants hold', async (_mode, makeStore) => {
    const store = makeStore();
    const orgs = await Promise.all([newOrg(50_000n), newOrg(50_000n), newOrg(50_000n)]);
    const providers = await Promise.all([newProvider(), newProvider()]);
    const accounts = [
      ...orgs.map((o) => accountIdFor('org_available', o)),
      ...providers.map((p) => accountIdFor('provider_payable', p)),
      revenue,
      clearing,
    ];
    const random = (seed: number) => {
      let x = seed;
      return (n: number) => {
        x = (x * 1103515245 + 12345) % 2147483648;
        return x % n;
      };
    };
    const outcomes: string[] = [];
    const caller = async (c: number) => {
      const rnd = random(c + 1);
      const holds: string[] = [];
      for (let i = 0; i < 40; i++) {
        const kind = rnd(5);
        const org = orgs[rnd(orgs.length)]!;
        let batch: TransferInput[];
        if (kind === 0 || holds.length === 0) {
          const id = newId(`c${c}`);
          holds.push(id);
          batch = [{ id, debitAccountId: accountIdFor('org_available', org), creditAccountId: accountIdFor('org_held', org), amount: BigInt(1 + rnd(5_000)), code: 'hold', flags: TransferFlags.pending }];
        } else if (kind === 1) {
          const pendingId = holds[rnd(holds.length)]!;
          batch = [{ id: newId(`c${c}`), pendingId, code: rnd(2) ? 'charge' : 'release', flags: rnd(2) ? TransferFlags.postPending : TransferFlags.voidPending }];
        } else {
          // Random legs between random accounts, sometimes linked, in random (unsorted) order.
          const legs = 1 + rnd(3);
          batch = Array.from({ length: legs }, (_, leg) => {
            let from = accounts[rnd(accounts.length)]!;
            const to = accounts[rnd(accounts.length)]!;
            if (from === to) from = clearing === to ? revenue : clearing;
            return { id: newId(`c${c}`), debitAccountId: from, creditAccountId: to, amount: BigInt(1 + rnd(8_000)), code: 'transfer' as const, flags: kind === 2 && leg < legs - 1 ? TransferFlags.linked : 0 };
          });
        }
        for (const o of await store.createTransfers(batch, at(i))) outcomes.push(o.result);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => caller(c)));
    expect(outcomes.filter((r) => r === 'ok').length).toBeGreaterThan(100);
    expect(outcomes).toContain('insufficient_funds');
    for (const org of orgs) expect((await store.getOrgBalance(org)).availableMicros >= 0n).toBe(true);
    // Row locks in id order: not one deadlock had to be retried.
    expect(store.retries.deadlock).toBe(0);
    // The hot revenue account was written through several stripes, never one locked row.
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ledger_account_stripes WHERE account_id = $1 AND (credits_posted <> 0 OR debits_posted <> 0)`, [revenue]);
    expect(rows[0].n).toBeGreaterThan(1);
    expect((await pool.query(`SELECT debits_posted, credits_posted FROM ledger_accounts WHERE id = $1`, [revenue])).rows).toEqual([{ debits_posted: '0', credits_posted: '0' }]);
    expect(await store.checkInvariants()).toEqual([]);
  });

  it('keeps every invariant when 8 callers run random operation sequences at once (fast-check)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(ledgerOpArbitrary(), { minLength: 5, maxLength: 25 }), { minLength: 8, maxLength: 8 }), async (perCaller) => {
        const label = `race-${process.pid}-${run++}`;
        const sc = scenario(label, 2, 2);
        await store.createAccounts(sc.accounts, T0);
        const seen: string[] = [];
        await Promise.all(
          perCaller.map(async (ops, caller) => {
            for (const step of interpretOps(`${label}-${caller}`, sc, ops, T0)) {
              if (step.kind === 'expire') await store.expirePendingTransfers(step.now);
              else for (const o of await store.createTransfers(step.inputs, step.now)) seen.push(o.result);
            }
          }),
        );
        expect(seen.length).toBeGreaterThan(0);
        for (const orgId of sc.orgIds) expect((await store.getOrgBalance(orgId)).availableMicros >= 0n).toBe(true);
        expect(await store.checkInvariants()).toEqual([]);
      }),
      { numRuns: 4 },
    );
  });

  it('under a spending race, never lets an org go negative', async () => {
    const orgId = await newOrg(10_000n);
    const available = accountIdFor('org_available', orgId);
    const spent = await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        let total = 0n;
        for (let i = 0; i < 15; i++) {
          const amount = BigInt(97 + c * 13 + i);
          const [o] = await store.createTransfers([{ id: newId(`spend${c}`), debitAccountId: available, creditAccountId: revenue, amount, code: 'transfer' }], T0);
          if (o!.result === 'ok') total += amount;
          else expect(o!.result).toBe('insufficient_funds');
        }
        return total;
      }),
    );
    const total = spent.reduce((a, b) => a + b, 0n);
    expect(total <= 10_000n).toBe(true);
    expect((await store.getOrgBalance(orgId)).availableMicros).toBe(10_000n - total);
    expect(await store.checkInvariants()).toEqual([]);
  });

  it('keeps one caller\'s bad request out of the others\' group', async () => {
    const orgId = await newOrg(1_000n);
    const available = accountIdFor('org_available', orgId);
    const good = (amount: bigint): TransferInput => ({ id: newId(), debitAccountId: available, creditAccountId: revenue, amount, code: 'transfer' });
    const outcomes = await Promise.allSettled([
      store.createTransfers([good(1n)], T0),
      store.createTransfers([{ ...good(1n), links: { jobId: 'not-a-uuid' } }], T0),
      store.createTransfers([good(2n)], new Date(Number.NaN)),
      store.createTransfers([{ ...good(1n), amount: 2n ** 63n }], T0),
      store.createTransfers([good(3n)], T0),
    ]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value[0]!.result : 'rejected'))).toEqual(['ok', 'link_invalid', 'rejected', 'overflows_balance', 'ok']);
    expect((await store.getOrgBalance(orgId)).availableMicros).toBe(996n);
  });

  it('lets exactly one of 8 racing callers create an id or resolve a hold', async () => {
    const orgId = await newOrg(10_000n);
    const transfer: TransferInput = { id: newId(), debitAccountId: accountIdFor('org_available', orgId), creditAccountId: revenue, amount: 10n, code: 'transfer' };
    const same = await Promise.all(Array.from({ length: 8 }, () => store.createTransfers([transfer], T0)));
    expect(same.map((r) => r[0]!.result).sort()).toEqual(['exists', 'exists', 'exists', 'exists', 'exists', 'exists', 'exists', 'ok']);

    const hold = planJobHold({ orgId, jobId: newId(), quoteUpperMicros: 1_000n, budgetCapMicros: null });
    await store.createTransfers([hold.transfer], T0);
    const posts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.createTransfers([{ id: newId(), pendingId: hold.holdId, amount: BigInt(100 + i), code: 'charge', flags: TransferFlags.postPending }], T0)),
    );
    const results = posts.map((r) => r[0]!.result).sort();
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'pending_already_resolved')).toHaveLength(7);
    expect(await store.checkInvariants()).toEqual([]);
  });
});

describe('money flow of a job', () => {
  it('top-up by signed webhook, hold, settlement, statement, payout', async () => {
    const processor = new TestPaymentProcessor({ webhookSecret: 'whsec_int_spec_0123456789', newId: () => newId('pay') });
    const orgId = await newOrg();
    const providerOrgId = await newProvider();

    // Top-up: the webhook is verified, then applied once per event (and once per payment).
    const intent = await processor.createTopUpIntent({ orgId, amountMicros: 50_000_000n, now: T0 });
    const webhook = processor.completeTopUp(intent.paymentId, T0);
    const parsed = processor.parseWebhook({ rawBody: webhook.rawBody, signatureHeader: webhook.signatureHeader, now: at(10) });
    if (!parsed.ok) throw new Error(parsed.code);
    expect(await store.applyPaymentEvent(parsed.event, processor.name, at(10))).toEqual({ status: 'applied', transferResult: 'ok' });
    expect(await store.applyPaymentEvent(parsed.event, processor.name, at(11))).toEqual({ status: 'duplicate_event' });
    expect(await store.applyPaymentEvent({ ...parsed.event, eventId: 'evt_other' }, processor.name, at(12))).toEqual({ status: 'applied', transferResult: 'exists' });
    expect((await store.getOrgBalance(orgId)).availableMicros).toBe(50_000_000n);

    // Submission: hold the lower of quote upper bound and budget cap.
    const jobId = newId('job');
    const attemptId = newId('attempt');
    const hold = planJobHold({ orgId, jobId, quoteUpperMicros: 30_000_000n, budgetCapMicros: 20_000_000n });
    expect((await store.createTransfers([hold.transfer], at(20)))[0]!.result).toBe('ok');
    expect(await store.getOrgBalance(orgId)).toEqual({ availableMicros: 30_000_000n, heldMicros: 20_000_000n });

    // End: 1 h on 2 GPUs at 3 USD/GPU-hour = 6 USD; 20 % fee.
    const plan = planAttemptSettlement({
      orgId,
      providerOrgId,
      jobId,
      attemptId,
      hold: { id: jobHoldId(jobId), amountMicros: hold.amountMicros },
      gpuModel: 'A100-80GB',
      gpuCount: 2,
      priceMicrosPerGpuHour: 3_000_000n,
      attempt: { runningAt: at(100), endedAt: at(3700), endReason: 'completed', lastHeartbeatAt: at(3699) },
      budgetCapMicros: 20_000_000n,
      now: at(3700),
    });
    const settled = await store.settleAttempt(plan, at(3701));
    expect(settled.usage).toBe('ok');
    expect(settled.results.map((r) => r.result)).toEqual(['ok', 'ok', 'ok']);
    const replay = await store.settleAttempt(plan, at(3800));
    expect(replay).toEqual({ usage: 'exists', results: settled.results.map((r) => ({ ...r, result: 'exists' })) });
    expect(await store.getOrgBalance(orgId)).toEqual({ availableMicros: 44_000_000n, heldMicros: 0n });
    expect(await store.getProviderBalance(providerOrgId)).toEqual({ payableMicros: 4_800_000n, paidOutMicros: 0n });

    // Statement: each line traceable to the payment or the attempt (GPU, seconds, rate, amount), paged by cursor.
    const first = await store.listOrgStatement(orgId, { limit: 2 });
    expect(first.lines.map((l) => l.code)).toEqual(['charge', 'hold']);
    expect(first.lines[0]).toMatchObject({
      direction: 'debit',
      amountMicros: 6_000_000n,
      resolvesPendingId: hold.holdId,
      links: { jobId, attemptId },
      usage: { gpuModel: 'A100-80GB', gpuCount: 2, billableSeconds: 3600, priceMicrosPerGpuHour: 3_000_000n, chargedMicros: 6_000_000n },
    });
    expect(first.lines[1]).toMatchObject({ pendingStatus: 'posted', amountMicros: 20_000_000n });
    expect(first.nextCursor).not.toBeNull();
    const second = await store.listOrgStatement(orgId, { limit: 2, cursor: first.nextCursor });
    expect(second.lines.map((l) => [l.code, l.direction, l.links.paymentId])).toEqual([['top_up', 'credit', intent.paymentId]]);
    expect(second.nextCursor).toBeNull();
    const earnings = await store.listProviderStatement(providerOrgId);
    expect(earnings.lines).toMatchObject([{ code: 'provider_share', direction: 'credit', amountMicros: 4_800_000n, usage: { billableSeconds: 3600 } }]);

    // Payout: nothing before the dispute window has passed, then all of it.
    const payoutId = newId('payout');
    expect(await store.createPayout({ providerOrgId, payoutId, now: at(3 * 86_400), minimumPayoutMicros: 1_000_000n })).toMatchObject({
      kind: 'nothing_due',
      reason: 'nothing_eligible',
    });
    expect(await store.createPayout({ providerOrgId, payoutId, now: at(8 * 86_400), minimumPayoutMicros: 5_000_000n })).toMatchObject({
      kind: 'nothing_due',
      reason: 'below_minimum',
    });
    const payout = await store.createPayout({ providerOrgId, payoutId, now: at(8 * 86_400), minimumPayoutMicros: 1_000_000n });
    expect(payout).toMatchObject({ kind: 'payout', result: 'ok', plan: { payout: { amountMicros: 4_800_000n } } });
    expect(await store.createPayout({ providerOrgId, payoutId: newId('payout'), now: at(9 * 86_400), minimumPayoutMicros: 1n })).toMatchObject({
      kind: 'nothing_due',
    });
    expect(await store.getProviderBalance(providerOrgId)).toEqual({ payableMicros: 0n, paidOutMicros: 0n });
    const { rows } = await pool.query(`SELECT amount_micros FROM ledger_payouts WHERE id = $1`, [payoutId]);
    expect(rows).toEqual([{ amount_micros: '4800000' }]);
    expect(await store.checkInvariants()).toEqual([]);
  });

  it('writes nothing when a settlement batch fails', async () => {
    const orgId = await newOrg(10_000_000n);
    const providerOrgId = await newProvider();
    const jobId = newId('job');
    const hold = planJobHold({ orgId, jobId, quoteUpperMicros: 1_000_000n, budgetCapMicros: null });
    await store.createTransfers([hold.transfer], T0);
    await store.createTransfers([{ id: newId(), pendingId: hold.holdId, code: 'release', flags: TransferFlags.voidPending }], T0);
    const plan = planAttemptSettlement({
      orgId,
      providerOrgId,
      jobId,
      attemptId: newId('attempt'),
      hold: { id: hold.holdId, amountMicros: hold.amountMicros },
      gpuModel: 'L4',
      gpuCount: 1,
      priceMicrosPerGpuHour: 1_000_000n,
      attempt: { runningAt: T0, endedAt: at(60), endReason: 'completed', lastHeartbeatAt: at(60) },
      budgetCapMicros: null,
      now: at(60),
    });
    const result = await store.settleAttempt(plan, at(61));
    expect(result.usage).toBe('not_recorded');
    expect(result.results.map((r) => r.result)).toEqual(['pending_already_resolved', 'linked_event_failed', 'linked_event_failed']);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ledger_usage_records WHERE attempt_id = $1`, [plan.usage.attemptId]);
    expect(rows[0].n).toBe(0);
  });
});
