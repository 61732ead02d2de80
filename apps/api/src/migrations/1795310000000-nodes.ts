import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Community nodes: join tokens, registered nodes (nkey public key, GPUs, price, listing, live state
 * as last written), their state history (uptime, reliability, dispute evidence), a telemetry series
 * sampled once a minute, and provider credentials sealed with the SecretBox.
 */
export class Nodes1795310000000 implements MigrationInterface {
  name = 'Nodes1795310000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE node_join_tokens (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        token_hash text NOT NULL,
        created_by uuid NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        node_id uuid,
        CONSTRAINT node_join_tokens_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX node_join_tokens_org_id_idx ON node_join_tokens (org_id)`);
    await db.query(`CREATE UNIQUE INDEX node_join_tokens_token_hash_key ON node_join_tokens (token_hash)`);
    await db.query(`
      CREATE TABLE nodes (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        public_key text NOT NULL,
        node_token_hash text,
        hostname text NOT NULL,
        agent_version text NOT NULL,
        gpus jsonb NOT NULL,
        gpu_model_id text,
        gpu_name text NOT NULL,
        gpu_count integer NOT NULL,
        vram_mb integer,
        price_micros_per_gpu_hour bigint NOT NULL,
        region text,
        simulated boolean NOT NULL,
        listed boolean NOT NULL,
        draining boolean NOT NULL,
        state text NOT NULL,
        state_changed_at timestamptz NOT NULL,
        agent_state text,
        last_heartbeat_at timestamptz,
        last_seq bigint,
        last_telemetry jsonb,
        running_attempt jsonb,
        reserved_for_attempt_id text,
        last_written_at timestamptz,
        created_at timestamptz NOT NULL,
        deleted_at timestamptz,
        CONSTRAINT nodes_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX nodes_org_id_idx ON nodes (org_id)`);
    await db.query(`CREATE UNIQUE INDEX nodes_public_key_key ON nodes (public_key)`);
    await db.query(`CREATE UNIQUE INDEX nodes_node_token_hash_key ON nodes (node_token_hash)`);
    await db.query(`
      CREATE TABLE node_state_events (
        id uuid PRIMARY KEY,
        node_id uuid NOT NULL,
        from_state text,
        to_state text NOT NULL,
        at timestamptz NOT NULL,
        reason text NOT NULL,
        CONSTRAINT node_state_events_node_id_fkey FOREIGN KEY (node_id) REFERENCES nodes (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX node_state_events_node_at_idx ON node_state_events (node_id, at)`);
    await db.query(`
      CREATE TABLE node_telemetry (
        node_id uuid NOT NULL,
        at timestamptz NOT NULL,
        gpus jsonb NOT NULL,
        running_attempt_id text,
        PRIMARY KEY (node_id, at),
        CONSTRAINT node_telemetry_node_id_fkey FOREIGN KEY (node_id) REFERENCES nodes (id) ON DELETE CASCADE
      )`);
    await db.query(`
      CREATE TABLE provider_credentials (
        kind text PRIMARY KEY,
        sealed_credentials text NOT NULL,
        config jsonb NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by uuid
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['provider_credentials', 'node_telemetry', 'node_state_events', 'nodes', 'node_join_tokens']) {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
