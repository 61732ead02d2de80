import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Disputes (with their frozen evidence bundle and the admin's resolution), the receivables that
 * carry a refund the provider owes once its earnings were paid out, and node quarantine and the
 * reliability penalty an admin can impose. No foreign keys to jobs, attempts or organizations:
 * a dispute is a financial record and outlives them (like invoices and the ledger).
 */
export class DisputesAndAdmin1795360000000 implements MigrationInterface {
  name = 'DisputesAndAdmin1795360000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE disputes (
        id uuid PRIMARY KEY,
        job_id uuid NOT NULL,
        attempt_id uuid NOT NULL,
        customer_org_id uuid NOT NULL,
        provider_org_id uuid,
        provider_kind text NOT NULL,
        node_id uuid,
        opened_by uuid NOT NULL,
        reason text NOT NULL,
        description text NOT NULL,
        status text NOT NULL,
        charged_micros bigint NOT NULL,
        evidence jsonb NOT NULL,
        suggestion jsonb NOT NULL,
        provider_statement text,
        provider_responded_by uuid,
        provider_responded_at timestamptz,
        resolution text,
        refund_micros bigint,
        refund_from_provider_micros bigint,
        refund_from_platform_micros bigint,
        receivable_micros bigint,
        resolution_note text,
        consequences jsonb,
        resolved_by uuid,
        resolved_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT disputes_reason_ck CHECK (reason IN ('node_failed', 'slower_than_offered', 'wrong_gpu', 'billed_wrongly', 'other')),
        CONSTRAINT disputes_status_ck CHECK (status IN ('open', 'answered', 'resolved')),
        CONSTRAINT disputes_resolution_ck CHECK (resolution IS NULL OR resolution IN ('full_refund', 'partial_refund', 'rejected')),
        CONSTRAINT disputes_refund_ck CHECK (refund_micros IS NULL OR (refund_micros >= 0 AND refund_micros <= charged_micros))
      )`);
    await db.query(`CREATE UNIQUE INDEX disputes_attempt_id_key ON disputes (attempt_id)`);
    await db.query(`CREATE INDEX disputes_customer_org_created_idx ON disputes (customer_org_id, created_at)`);
    await db.query(`CREATE INDEX disputes_provider_org_created_idx ON disputes (provider_org_id, created_at)`);
    await db.query(`CREATE INDEX disputes_status_created_idx ON disputes (status, created_at)`);
    await db.query(`
      CREATE TABLE provider_receivables (
        id uuid PRIMARY KEY,
        dispute_id uuid NOT NULL,
        provider_org_id uuid NOT NULL,
        amount_micros bigint NOT NULL,
        recovered_micros bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL,
        settled_at timestamptz,
        CONSTRAINT provider_receivables_amount_ck CHECK (amount_micros > 0),
        CONSTRAINT provider_receivables_recovered_ck CHECK (recovered_micros >= 0 AND recovered_micros <= amount_micros)
      )`);
    await db.query(`CREATE UNIQUE INDEX provider_receivables_dispute_id_key ON provider_receivables (dispute_id)`);
    await db.query(`CREATE INDEX provider_receivables_open_idx ON provider_receivables (provider_org_id) WHERE settled_at IS NULL`);
    await db.query(`ALTER TABLE nodes ADD COLUMN quarantined_at timestamptz`);
    await db.query(`ALTER TABLE nodes ADD COLUMN quarantine_reason text`);
    await db.query(`ALTER TABLE nodes ADD COLUMN reliability_penalty double precision NOT NULL DEFAULT 0`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE nodes DROP COLUMN reliability_penalty`);
    await db.query(`ALTER TABLE nodes DROP COLUMN quarantine_reason`);
    await db.query(`ALTER TABLE nodes DROP COLUMN quarantined_at`);
    await db.query(`DROP TABLE provider_receivables`);
    await db.query(`DROP TABLE disputes`);
  }
}
