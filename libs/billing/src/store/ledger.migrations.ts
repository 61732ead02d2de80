/**
 * The ledger's schema as ordered migrations. A migration, once shipped, is never edited: a
 * change to the schema is a NEW entry at the end. The API runs these from its TypeORM migration
 * classes (one class per entry, `up` / `down` verbatim); `applyLedgerMigrations` runs them for
 * this library's own tests and the benchmark.
 */
export interface LedgerMigration {
  readonly id: string;
  readonly up: string;
  readonly down: string;
}

const M0001_LEDGER_CORE: LedgerMigration = Object.freeze({
  id: '20261122000001-ledger-core',
  up: `
CREATE TABLE ledger_accounts (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('org_available','org_held','provider_payable','provider_paid_out','platform_revenue','platform_payment_clearing','platform_payouts_clearing')),
  owner_id uuid,
  flags integer NOT NULL CHECK (flags >= 0),
  debits_pending bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  debits_posted bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  credits_posted bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  created_at timestamptz NOT NULL,
  CONSTRAINT ledger_accounts_owner_ck CHECK ((owner_id IS NULL) = (kind LIKE 'platform\\_%')),
  CONSTRAINT ledger_accounts_debits_must_not_exceed_credits CHECK ((flags & 1) = 0 OR debits_pending + debits_posted <= credits_posted),
  CONSTRAINT ledger_accounts_credits_must_not_exceed_debits CHECK ((flags & 2) = 0 OR credits_pending + credits_posted <= debits_posted)
);
CREATE UNIQUE INDEX ledger_accounts_kind_owner_uq ON ledger_accounts (kind, COALESCE(owner_id, '00000000-0000-0000-0000-000000000000'::uuid));

-- Sub-balances of hot accounts (flag 4): the account row stays at zero, the balance is the sum of its stripes.
CREATE TABLE ledger_account_stripes (
  account_id uuid NOT NULL REFERENCES ledger_accounts (id),
  stripe smallint NOT NULL CHECK (stripe >= 0),
  debits_pending bigint NOT NULL DEFAULT 0,
  debits_posted bigint NOT NULL DEFAULT 0,
  credits_pending bigint NOT NULL DEFAULT 0,
  credits_posted bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, stripe)
);

CREATE TABLE ledger_transfers (
  id uuid PRIMARY KEY,
  -- Insertion order: the statement cursor. Indexed only together with an account (below).
  seq bigint GENERATED ALWAYS AS IDENTITY,
  -- No foreign keys to ledger_accounts on purpose: every transfer's accounts are checked by the
  -- ledger core under the same transaction (ordinary ones are even row-locked), accounts can never
  -- be deleted (trigger below), and a foreign-key check would take a KEY SHARE lock on the hot
  -- platform revenue row in every transaction (multixact churn on the busiest row of the ledger).
  debit_account_id uuid NOT NULL,
  credit_account_id uuid NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  code text NOT NULL,
  flags integer NOT NULL CHECK (flags >= 0),
  -- The hold a post/void resolves (checked by the core under the accounts' locks; no foreign key,
  -- which would lock the hold's row, a WAL write, on every post and void; transfers are never deleted).
  pending_id uuid,
  timeout_seconds integer NOT NULL DEFAULT 0 CHECK (timeout_seconds >= 0),
  expires_at timestamptz,
  job_id uuid,
  attempt_id uuid,
  payment_id text,
  dispute_id uuid,
  payout_id uuid,
  created_at timestamptz NOT NULL,
  CONSTRAINT ledger_transfers_accounts_differ CHECK (debit_account_id <> credit_account_id),
  CONSTRAINT ledger_transfers_pending_id_ck CHECK ((pending_id IS NOT NULL) = ((flags & 12) <> 0))
);
-- A hold is posted or voided by at most one transfer, enforced by the database as well as the core.
CREATE UNIQUE INDEX ledger_transfers_pending_id_uq ON ledger_transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX ledger_transfers_debit_seq_ix ON ledger_transfers (debit_account_id, seq);
CREATE INDEX ledger_transfers_credit_seq_ix ON ledger_transfers (credit_account_id, seq);
CREATE INDEX ledger_transfers_job_ix ON ledger_transfers (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX ledger_transfers_attempt_ix ON ledger_transfers (attempt_id) WHERE attempt_id IS NOT NULL;
CREATE INDEX ledger_transfers_payment_ix ON ledger_transfers (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX ledger_transfers_dispute_ix ON ledger_transfers (dispute_id) WHERE dispute_id IS NOT NULL;
CREATE INDEX ledger_transfers_expiry_ix ON ledger_transfers (expires_at) WHERE expires_at IS NOT NULL;

-- How each hold ended (posted, voided, expired): one row per hold, ever.
CREATE TABLE ledger_pending_resolutions (
  pending_id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('posted','voided','expired')),
  transfer_id uuid,
  resolved_at timestamptz NOT NULL,
  CONSTRAINT ledger_pending_resolutions_transfer_ck CHECK ((transfer_id IS NULL) = (status = 'expired'))
);

-- The evidence behind each attempt's charge (GPU, seconds, rate, amount); one per attempt.
CREATE TABLE ledger_usage_records (
  usage_key text PRIMARY KEY,
  attempt_id uuid NOT NULL UNIQUE,
  job_id uuid NOT NULL,
  org_id uuid NOT NULL,
  provider_org_id uuid NOT NULL,
  gpu_model text NOT NULL,
  gpu_count integer NOT NULL CHECK (gpu_count >= 0),
  billable_seconds bigint NOT NULL CHECK (billable_seconds >= 0),
  price_micros_per_gpu_hour bigint NOT NULL CHECK (price_micros_per_gpu_hour >= 0),
  cost_micros bigint NOT NULL CHECK (cost_micros >= 0),
  charged_micros bigint NOT NULL CHECK (charged_micros >= 0),
  running_at timestamptz,
  ended_at timestamptz,
  end_reason text,
  recorded_at timestamptz NOT NULL
);

-- Payment processor webhook events, each handled once.
CREATE TABLE ledger_payment_events (
  event_id text PRIMARY KEY,
  processor text NOT NULL,
  type text NOT NULL,
  payment_id text NOT NULL,
  org_id uuid NOT NULL,
  amount_micros bigint NOT NULL CHECK (amount_micros >= 0),
  transfer_id uuid REFERENCES ledger_transfers (id),
  received_at timestamptz NOT NULL
);
CREATE INDEX ledger_payment_events_payment_ix ON ledger_payment_events (payment_id);

CREATE TABLE ledger_payouts (
  id uuid PRIMARY KEY,
  provider_org_id uuid NOT NULL,
  amount_micros bigint NOT NULL CHECK (amount_micros > 0),
  cutoff timestamptz NOT NULL,
  transfer_id uuid NOT NULL UNIQUE REFERENCES ledger_transfers (id),
  created_at timestamptz NOT NULL
);
CREATE INDEX ledger_payouts_provider_ix ON ledger_payouts (provider_org_id, created_at);

-- Append-only: the database itself refuses to change or remove what the ledger recorded.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation', HINT = 'Correct the ledger with a new transfer instead.';
END;
$fn$;
CREATE FUNCTION ledger_refuse_account_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'ledger accounts are never deleted: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END;
$fn$;
CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts FOR EACH ROW EXECUTE FUNCTION ledger_refuse_account_delete();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_account_delete();
-- Balances change; what an account is does not.
CREATE FUNCTION ledger_refuse_account_identity_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.id <> OLD.id OR NEW.kind <> OLD.kind OR NEW.owner_id IS DISTINCT FROM OLD.owner_id OR NEW.flags <> OLD.flags THEN
    RAISE EXCEPTION 'a ledger account''s id, kind, owner and flags never change' USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END;
$fn$;
CREATE TRIGGER ledger_accounts_identity_fixed BEFORE UPDATE OF id, kind, owner_id, flags ON ledger_accounts FOR EACH ROW EXECUTE FUNCTION ledger_refuse_account_identity_change();
CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_pending_resolutions_append_only BEFORE UPDATE OR DELETE ON ledger_pending_resolutions FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_pending_resolutions_no_truncate BEFORE TRUNCATE ON ledger_pending_resolutions FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_usage_records_append_only BEFORE UPDATE OR DELETE ON ledger_usage_records FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_usage_records_no_truncate BEFORE TRUNCATE ON ledger_usage_records FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_payment_events_append_only BEFORE UPDATE OR DELETE ON ledger_payment_events FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_payment_events_no_truncate BEFORE TRUNCATE ON ledger_payment_events FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_payouts_append_only BEFORE UPDATE OR DELETE ON ledger_payouts FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_payouts_no_truncate BEFORE TRUNCATE ON ledger_payouts FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
`,
  down: `
DROP TABLE ledger_payouts;
DROP TABLE ledger_payment_events;
DROP TABLE ledger_usage_records;
DROP TABLE ledger_pending_resolutions;
DROP TABLE ledger_transfers;
DROP TABLE ledger_account_stripes;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_refuse_change();
DROP FUNCTION ledger_refuse_account_delete();
DROP FUNCTION ledger_refuse_account_identity_change();
`,
});

/** Every ledger migration, oldest first. Append only. */
export const LEDGER_MIGRATIONS: readonly LedgerMigration[] = Object.freeze([M0001_LEDGER_CORE]);

export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/**
 * Applies the ledger migrations not yet applied, in order, each in its own transaction, recording
 * them in `ledger_schema_migrations`. For this library's tests and benchmark; the API applies
 * `LEDGER_MIGRATIONS` through TypeORM instead (and never both on one database).
 * `client` must be a single connection (a `pg.Client` or a checked-out `PoolClient`).
 */
export async function applyLedgerMigrations(client: SqlClient): Promise<string[]> {
  await client.query('CREATE TABLE IF NOT EXISTS ledger_schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  const applied: string[] = [];
  for (const migration of LEDGER_MIGRATIONS) {
    await client.query('BEGIN');
    try {
      await client.query('LOCK TABLE ledger_schema_migrations IN EXCLUSIVE MODE');
      const done = await client.query('SELECT 1 FROM ledger_schema_migrations WHERE id = $1', [migration.id]);
      if (done.rows.length === 0) {
        await client.query(migration.up);
        await client.query('INSERT INTO ledger_schema_migrations (id) VALUES ($1)', [migration.id]);
        applied.push(migration.id);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  }
  return applied;
}
