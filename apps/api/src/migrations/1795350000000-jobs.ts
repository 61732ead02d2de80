import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Jobs, attempts, their events, logs and metrics, and the NATS outbox. */
export class Jobs1795350000000 implements MigrationInterface {
  name = 'Jobs1795350000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE outbox_messages (
        id uuid PRIMARY KEY,
        subject text NOT NULL,
        payload jsonb NOT NULL,
        jetstream boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        published_at timestamptz,
        attempts integer NOT NULL DEFAULT 0
      )`);
    await db.query(`CREATE INDEX outbox_messages_pending_idx ON outbox_messages (created_at) WHERE published_at IS NULL`);
    await db.query(`
      CREATE TABLE jobs (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        created_by uuid NOT NULL,
        name text NOT NULL,
        status text NOT NULL,
        recipe jsonb NOT NULL,
        dataset_id uuid NOT NULL,
        resources jsonb NOT NULL,
        provider_allowlist text[] NOT NULL,
        max_price_micros_per_gpu_hour bigint,
        budget_cap_micros bigint,
        hold_micros bigint NOT NULL DEFAULT 0,
        hold_id text,
        submitted_quote jsonb,
        steps integer NOT NULL,
        max_duration_seconds integer NOT NULL,
        max_attempts integer NOT NULL DEFAULT 3,
        attempt_count integer NOT NULL DEFAULT 0,
        failed_rounds integer NOT NULL DEFAULT 0,
        idempotency_key text,
        request_hash text,
        wait_reason text,
        next_attempt_at timestamptz NOT NULL,
        last_checkpoint_key text,
        final_message text,
        cancel_requested_at timestamptz,
        artifact_keys text[] NOT NULL DEFAULT '{}',
        cost_micros bigint NOT NULL DEFAULT 0,
        runtime_seconds integer,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await db.query(`CREATE INDEX jobs_org_created_idx ON jobs (org_id, created_at)`);
    await db.query(`CREATE UNIQUE INDEX jobs_org_idempotency_key ON jobs (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await db.query(`CREATE INDEX jobs_schedulable_idx ON jobs (next_attempt_at) WHERE status = 'queued'`);
    await db.query(`
      CREATE TABLE attempts (
        id uuid PRIMARY KEY,
        job_id uuid NOT NULL,
        org_id uuid NOT NULL,
        number integer NOT NULL,
        provider_kind text NOT NULL,
        offer_id text NOT NULL,
        node_id uuid,
        provider_org_id uuid,
        instance_id text,
        gpu_model text NOT NULL,
        gpu_count integer NOT NULL,
        price_micros_per_gpu_hour bigint NOT NULL,
        status text NOT NULL,
        end_reason text,
        attempt_token_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        running_at timestamptz,
        ended_at timestamptz,
        last_seen_at timestamptz,
        billable_seconds integer,
        cost_micros bigint NOT NULL DEFAULT 0,
        last_event_seq integer NOT NULL DEFAULT 0,
        CONSTRAINT attempts_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX attempts_job_id_idx ON attempts (job_id)`);
    // The database itself guarantees what the scheduler promises: no node runs two attempts,
    // no job has two live attempts.
    await db.query(`CREATE UNIQUE INDEX attempts_live_node_key ON attempts (node_id) WHERE status <> 'ended' AND node_id IS NOT NULL`);
    await db.query(`CREATE UNIQUE INDEX attempts_live_job_key ON attempts (job_id) WHERE status <> 'ended'`);
    await db.query(`
      CREATE TABLE job_events (
        id uuid PRIMARY KEY,
        job_id uuid NOT NULL,
        attempt_id uuid,
        at timestamptz NOT NULL,
        type text NOT NULL,
        from_status text,
        to_status text,
        message text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        CONSTRAINT job_events_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX job_events_job_time_idx ON job_events (job_id, at)`);
    await db.query(`
      CREATE TABLE job_logs (
        id uuid PRIMARY KEY,
        job_id uuid NOT NULL,
        attempt_id uuid NOT NULL,
        seq bigint NOT NULL,
        at timestamptz NOT NULL,
        stream text NOT NULL,
        line text NOT NULL,
        CONSTRAINT job_logs_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX job_logs_job_seq_idx ON job_logs (job_id, seq)`);
    await db.query(`CREATE INDEX job_logs_at_idx ON job_logs (at)`);
    await db.query(`
      CREATE TABLE job_metrics (
        id uuid PRIMARY KEY,
        job_id uuid NOT NULL,
        attempt_id uuid NOT NULL,
        at timestamptz NOT NULL,
        step integer NOT NULL,
        loss double precision,
        step_time_ms double precision,
        gpu_utilization_pct double precision,
        CONSTRAINT job_metrics_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX job_metrics_job_step_idx ON job_metrics (job_id, step)`);
    await db.query(`CREATE INDEX job_metrics_at_idx ON job_metrics (at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['job_metrics', 'job_logs', 'job_events', 'attempts', 'jobs', 'outbox_messages']) await db.query(`DROP TABLE IF EXISTS ${table}`);
  }
}
