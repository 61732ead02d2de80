import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cloud machines join as nodes of their attempt.
 *
 * - One system organization per cloud provider kind owns the nodes its machines register (and
 *   earns the attempts' payables, as before). The ids are `cloudProviderOrgId(kind)`
 *   (`deriveUuid('cloud-provider', kind)`), written out here because a migration never changes.
 * - An attempt-bound join token: `node_join_tokens.attempt_id` (no creating user then), and the
 *   attempt's assignment sealed with the SecretBox until it is published to the node that joined
 *   (`assignment_published_at`); the sealed copy is dropped once published or once the attempt ended.
 * - `nodes.bound_attempt_id`: the one attempt a cloud machine's node exists for (never listed,
 *   retired when the attempt ends).
 */
export class CloudAttemptNodes1795425000000 implements MigrationInterface {
  name = 'CloudAttemptNodes1795425000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      INSERT INTO organizations (id, name, personal, provider_enabled, created_at) VALUES
        ('e58a1c3f-2202-849f-bed5-04b534579902', 'Google Cloud (Anneal cloud capacity)', false, true, now()),
        ('a3441f70-9c29-85da-870f-4974e778acc1', 'RunPod (Anneal cloud capacity)', false, true, now())
      ON CONFLICT (id) DO NOTHING`);
    await db.query(`ALTER TABLE node_join_tokens ALTER COLUMN created_by DROP NOT NULL`);
    await db.query(`ALTER TABLE node_join_tokens ADD COLUMN attempt_id uuid`);
    await db.query(`ALTER TABLE node_join_tokens ADD COLUMN assignment_sealed text`);
    await db.query(`ALTER TABLE node_join_tokens ADD COLUMN assignment_published_at timestamptz`);
    await db.query(`ALTER TABLE node_join_tokens ADD CONSTRAINT node_join_tokens_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES attempts (id) ON DELETE CASCADE`);
    await db.query(`ALTER TABLE node_join_tokens ADD CONSTRAINT node_join_tokens_issuer_ck CHECK ((created_by IS NULL) <> (attempt_id IS NULL))`);
    await db.query(`CREATE UNIQUE INDEX node_join_tokens_attempt_id_key ON node_join_tokens (attempt_id) WHERE attempt_id IS NOT NULL`);
    await db.query(`CREATE INDEX node_join_tokens_sealed_idx ON node_join_tokens (expires_at) WHERE assignment_sealed IS NOT NULL`);
    await db.query(`ALTER TABLE nodes ADD COLUMN bound_attempt_id uuid`);
    await db.query(`CREATE UNIQUE INDEX nodes_bound_attempt_id_key ON nodes (bound_attempt_id) WHERE bound_attempt_id IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX IF EXISTS nodes_bound_attempt_id_key`);
    await db.query(`ALTER TABLE nodes DROP COLUMN IF EXISTS bound_attempt_id`);
    await db.query(`DELETE FROM node_join_tokens WHERE attempt_id IS NOT NULL`);
    await db.query(`DROP INDEX IF EXISTS node_join_tokens_sealed_idx`);
    await db.query(`DROP INDEX IF EXISTS node_join_tokens_attempt_id_key`);
    await db.query(`ALTER TABLE node_join_tokens DROP CONSTRAINT IF EXISTS node_join_tokens_issuer_ck`);
    await db.query(`ALTER TABLE node_join_tokens DROP CONSTRAINT IF EXISTS node_join_tokens_attempt_id_fkey`);
    await db.query(`ALTER TABLE node_join_tokens DROP COLUMN IF EXISTS assignment_published_at`);
    await db.query(`ALTER TABLE node_join_tokens DROP COLUMN IF EXISTS assignment_sealed`);
    await db.query(`ALTER TABLE node_join_tokens DROP COLUMN IF EXISTS attempt_id`);
    await db.query(`ALTER TABLE node_join_tokens ALTER COLUMN created_by SET NOT NULL`);
    // The system organizations go with the nodes their machines registered (cascade).
    await db.query(`DELETE FROM organizations WHERE id IN ('e58a1c3f-2202-849f-bed5-04b534579902', 'a3441f70-9c29-85da-870f-4974e778acc1')`);
  }
}
