import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Benchmarks and quotes: step-time aggregates per benchmark key (public priors and observed runs
 * kept apart), provisioning overhead per provider kind, receipts that make sample ingestion
 * idempotent, and the stored quotes of POST /v1/estimates.
 *
 * Privacy: benchmark_aggregates, provisioning_aggregates and benchmark_sample_receipts have no
 * column that could identify a user, org, job, node, dataset or IP (a test lists the columns).
 */
export class BenchmarksAndQuotes1795330000000 implements MigrationInterface {
  name = 'BenchmarksAndQuotes1795330000000';

  async up(db: QueryRunner): Promise<void> {
    // One row per (key, source): 'observed' (merged from finished runs) or 'public:<table file>'
    // (the cold-start prior). The snapshot merges a key's rows; an import replaces public rows only.
    await db.query(`
      CREATE TABLE benchmark_aggregates (
        key text NOT NULL,
        source text NOT NULL,
        step_time_ms_count integer NOT NULL,
        step_time_ms_mean double precision NOT NULL,
        step_time_ms_m2 double precision NOT NULL,
        log_step_time_ms_count integer NOT NULL,
        log_step_time_ms_mean double precision NOT NULL,
        log_step_time_ms_m2 double precision NOT NULL,
        steps_observed bigint NOT NULL,
        validation_ms_per_prompt_count integer NOT NULL,
        validation_ms_per_prompt_mean double precision NOT NULL,
        validation_ms_per_prompt_m2 double precision NOT NULL,
        revision bigint NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (key, source)
      )`);
    await db.query(`CREATE INDEX benchmark_aggregates_source_idx ON benchmark_aggregates (source)`);
    // Every write to an aggregate takes the next revision, so a replica that loaded a row can tell
    // whether a broadcast update is already in what it loaded.
    await db.query(`CREATE SEQUENCE benchmark_aggregate_revision_seq`);
    await db.query(`
      CREATE TABLE provisioning_aggregates (
        provider_kind text PRIMARY KEY,
        seconds_count integer NOT NULL,
        seconds_mean double precision NOT NULL,
        seconds_m2 double precision NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // A random id the finished attempt chose for its sample (never the attempt id).
    await db.query(`
      CREATE TABLE benchmark_sample_receipts (
        sample_id uuid PRIMARY KEY,
        received_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX benchmark_sample_receipts_received_at_idx ON benchmark_sample_receipts (received_at)`);
    await db.query(`
      CREATE TABLE quotes (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        created_by uuid NOT NULL,
        request jsonb NOT NULL,
        rows jsonb NOT NULL,
        excluded jsonb NOT NULL,
        summary text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        CONSTRAINT quotes_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX quotes_org_id_created_at_idx ON quotes (org_id, created_at)`);
    await db.query(`CREATE INDEX quotes_expires_at_idx ON quotes (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['quotes', 'benchmark_sample_receipts', 'provisioning_aggregates', 'benchmark_aggregates']) {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await db.query(`DROP SEQUENCE IF EXISTS benchmark_aggregate_revision_seq`);
  }
}
