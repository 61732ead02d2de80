import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Datasets (uploaded through presigned URLs, verified, with TTL) and moderation results. */
export class DatasetsAndModeration1795340000000 implements MigrationInterface {
  name = 'DatasetsAndModeration1795340000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE datasets (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        created_by uuid NOT NULL,
        name text NOT NULL,
        format text NOT NULL,
        declared_license text,
        size_bytes bigint NOT NULL,
        sha256 text NOT NULL,
        storage_key text NOT NULL,
        status text NOT NULL,
        upload_kind text NOT NULL,
        multipart_upload_id text,
        part_size_bytes bigint,
        part_count integer,
        sample_count bigint,
        token_count_estimate bigint,
        ttl_days integer NOT NULL,
        delete_after_training boolean NOT NULL,
        encryption text NOT NULL,
        failure_code text,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        completed_at timestamptz,
        deleted_at timestamptz,
        deletion_reason text,
        CONSTRAINT datasets_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX datasets_org_id_created_at_idx ON datasets (org_id, created_at)`);
    await db.query(`CREATE INDEX datasets_expires_at_idx ON datasets (expires_at) WHERE status <> 'deleted'`);
    await db.query(`
      CREATE TABLE moderation_results (
        id uuid PRIMARY KEY,
        subject_type text NOT NULL,
        subject_id uuid NOT NULL,
        org_id uuid NOT NULL,
        outcome text NOT NULL,
        reasons jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        review_outcome text,
        reviewed_by uuid,
        reviewed_at timestamptz,
        review_note text,
        CONSTRAINT moderation_results_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX moderation_results_subject_idx ON moderation_results (subject_type, subject_id, created_at)`);
    await db.query(`CREATE INDEX moderation_results_org_id_outcome_idx ON moderation_results (org_id, outcome)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE moderation_results`);
    await db.query(`DROP TABLE datasets`);
  }
}
