import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scheduler's sweep runs every second and reads only attempts that may need it: those still
 * provisioning (timeout), those provisioning or running (cancel, budget, maximum duration) and
 * those ended but not yet settled. Partial indexes keep each read proportional to those few rows,
 * not to every attempt ever made.
 */
export class SchedulerIndexes1795410000000 implements MigrationInterface {
  name = 'SchedulerIndexes1795410000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX attempts_active_job_idx ON attempts (job_id) WHERE status IN ('provisioning', 'running')`);
    await db.query(`CREATE INDEX attempts_provisioning_created_idx ON attempts (created_at) WHERE status = 'provisioning'`);
    await db.query(`CREATE INDEX attempts_unsettled_idx ON attempts (ended_at) WHERE status = 'ended' AND billable_seconds IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX IF EXISTS attempts_unsettled_idx`);
    await db.query(`DROP INDEX IF EXISTS attempts_provisioning_created_idx`);
    await db.query(`DROP INDEX IF EXISTS attempts_active_job_idx`);
  }
}
