import { LEDGER_MIGRATIONS, PgLedgerStore, type LedgerDbPool } from '@anneal/billing';
import { createTestDatabase, type TestDatabase } from '@anneal/test/support';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource, pendingSchemaDiff, runMigrationsLocked } from '../../core/database/data-source.js';
import { MIGRATIONS } from '../../migrations/index.js';

describe('the ledger schema inside the API database', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('ledgerschema');
    dataSource = await createDataSource(db.url, 4).initialize();
    await runMigrationsLocked(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('applies every LEDGER_MIGRATIONS entry through its own TypeORM class, after the accounts migration', () => {
    const names = MIGRATIONS.map((m) => new m().name);
    const ledger = names.filter((name) => name.startsWith('Ledger'));
    expect(ledger).toHaveLength(LEDGER_MIGRATIONS.length);
    const ts = (name: string) => Number(/(\d{13})$/.exec(name)![1]);
    const accounts = names.find((name) => name.startsWith('Accounts'))!;
    for (const name of ledger) expect(ts(name)).toBeGreaterThan(ts(accounts));
  });

  it('creates the ledger tables, which the entity/migration check leaves alone (no entities, nothing to drop)', async () => {
    const tables: { table_name: string }[] = await dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'ledger\\_%' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      'ledger_account_stripes',
      'ledger_accounts',
      'ledger_payment_events',
      'ledger_payouts',
      'ledger_pending_resolutions',
      'ledger_transfers',
      'ledger_usage_records',
    ]);
    const diff = await pendingSchemaDiff(dataSource);
    expect(diff.filter((sql) => sql.includes('ledger_'))).toEqual([]);
  });

  it('serves a PgLedgerStore on the API\'s own pool', async () => {
    const store = new PgLedgerStore((dataSource.driver as unknown as { master: LedgerDbPool }).master);
    const outcomes = await store.ensurePlatformAccounts(new Date());
    expect(outcomes.map((o) => o.result)).toEqual(['ok', 'ok', 'ok']);
    expect(await store.checkInvariants()).toEqual([]);
  });
});
