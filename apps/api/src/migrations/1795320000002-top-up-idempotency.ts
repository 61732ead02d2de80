import type { MigrationInterface, QueryRunner } from 'typeorm';

/** `POST /v1/billing/top-ups` accepts Idempotency-Key: a retried request returns the intent it created. */
export class TopUpIdempotency1795320000002 implements MigrationInterface {
  name = 'TopUpIdempotency1795320000002';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE top_ups ADD COLUMN idempotency_key text`);
    // NULLs are distinct: requests without a key never collide.
    await db.query(`CREATE UNIQUE INDEX top_ups_org_id_idempotency_key_key ON top_ups (org_id, idempotency_key)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX IF EXISTS top_ups_org_id_idempotency_key_key`);
    await db.query(`ALTER TABLE top_ups DROP COLUMN IF EXISTS idempotency_key`);
  }
}
