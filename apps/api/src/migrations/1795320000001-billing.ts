import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Billing beside the ledger: top-up intents (what we asked the payment processor for, so a webhook
 * can be matched to an org and amount) and monthly invoices (kept 7 years: there is no deletion
 * path, the database refuses DELETE and TRUNCATE; account deletion anonymizes the reference).
 * Neither table has a foreign key to organizations: they outlive the organization's row.
 */
export class Billing1795320000001 implements MigrationInterface {
  name = 'Billing1795320000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE top_ups (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        created_by uuid,
        processor text NOT NULL,
        payment_id text NOT NULL,
        amount_micros bigint NOT NULL CHECK (amount_micros > 0),
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        checkout_url text NOT NULL,
        created_at timestamptz NOT NULL,
        completed_at timestamptz
      )`);
    await db.query(`CREATE UNIQUE INDEX top_ups_payment_id_key ON top_ups (payment_id)`);
    await db.query(`CREATE INDEX top_ups_org_id_created_at_idx ON top_ups (org_id, created_at)`);
    await db.query(`
      CREATE TABLE invoices (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        period text NOT NULL,
        period_start timestamptz NOT NULL,
        period_end timestamptz NOT NULL,
        currency text NOT NULL DEFAULT 'usd',
        charges_micros bigint NOT NULL,
        credits_micros bigint NOT NULL,
        top_ups_micros bigint NOT NULL,
        total_micros bigint NOT NULL,
        lines jsonb NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE UNIQUE INDEX invoices_org_id_period_key ON invoices (org_id, period)`);
    await db.query(`
      CREATE FUNCTION invoices_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'invoices are kept for 7 years: % refused', TG_OP USING ERRCODE = 'restrict_violation';
      END;
      $fn$`);
    await db.query(`CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_refuse_delete()`);
    await db.query(`CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices FOR EACH STATEMENT EXECUTE FUNCTION invoices_refuse_delete()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS invoices`);
    await db.query(`DROP FUNCTION IF EXISTS invoices_refuse_delete()`);
    await db.query(`DROP TABLE IF EXISTS top_ups`);
  }
}
