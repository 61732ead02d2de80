import type { MigrationInterface, QueryRunner } from 'typeorm';

/** `POST /v1/datasets` accepts an Idempotency-Key: a retry returns the dataset it created. */
export class DatasetIdempotency1795340000002 implements MigrationInterface {
  name = 'DatasetIdempotency1795340000002';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE datasets ADD COLUMN idempotency_key text`);
    await db.query(`CREATE UNIQUE INDEX datasets_org_id_idempotency_key ON datasets (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX datasets_org_id_idempotency_key`);
    await db.query(`ALTER TABLE datasets DROP COLUMN idempotency_key`);
  }
}
