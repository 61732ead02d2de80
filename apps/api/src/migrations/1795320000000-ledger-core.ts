import type { MigrationInterface, QueryRunner } from 'typeorm';
import { LEDGER_MIGRATIONS, type LedgerMigration } from '@anneal/billing';

function ledgerMigration(id: string): LedgerMigration {
  const migration = LEDGER_MIGRATIONS.find((m) => m.id === id);
  if (!migration) throw new Error(`@anneal/billing has no ledger migration ${id}`);
  return migration;
}

const ledger = ledgerMigration('20261122000001-ledger-core');

/**
 * The ledger's tables (`ledger_*`, owned by @anneal/billing): its first LEDGER_MIGRATIONS entry,
 * verbatim. One class per entry; a later ledger entry gets a new class, never an edit here.
 * The ledger tables have no TypeORM entities (the store speaks SQL).
 */
export class LedgerCore1795320000000 implements MigrationInterface {
  name = 'LedgerCore1795320000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(ledger.up);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(ledger.down);
  }
}
