import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Privacy: personal data exports, and the record of which jobs' outputs the retention cron deleted. */
export class Privacy1795370000000 implements MigrationInterface {
  name = 'Privacy1795370000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE data_exports (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired')),
        progress_pct integer NOT NULL DEFAULT 0 CHECK (progress_pct BETWEEN 0 AND 100),
        object_key text,
        size_bytes bigint,
        failure text,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        expires_at timestamptz,
        CONSTRAINT data_exports_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX data_exports_user_created_idx ON data_exports (user_id, created_at)`);
    await db.query(`CREATE INDEX data_exports_queued_idx ON data_exports (created_at) WHERE status = 'queued'`);
    await db.query(`
      CREATE TABLE job_output_purges (
        job_id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        objects_deleted integer NOT NULL,
        reason text NOT NULL,
        purged_at timestamptz NOT NULL,
        CONSTRAINT job_output_purges_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS job_output_purges`);
    await db.query(`DROP TABLE IF EXISTS data_exports`);
  }
}
