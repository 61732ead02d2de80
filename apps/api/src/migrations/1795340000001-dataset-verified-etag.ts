import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The ETag of the object as verified at completion: a later overwrite through a still-valid upload URL is detected. */
export class DatasetVerifiedEtag1795340000001 implements MigrationInterface {
  name = 'DatasetVerifiedEtag1795340000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE datasets ADD COLUMN verified_etag text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE datasets DROP COLUMN verified_etag`);
  }
}
