import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts and access: users, sessions, 2FA recovery codes, organizations, API keys, audit log, email outbox. */
export class Accounts1795300000000 implements MigrationInterface {
  name = 'Accounts1795300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE organizations (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        personal boolean NOT NULL DEFAULT false,
        provider_enabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text,
        name text,
        password_hash text,
        is_admin boolean NOT NULL DEFAULT false,
        status text NOT NULL DEFAULT 'active',
        personal_org_id uuid NOT NULL,
        failed_login_count integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        totp_secret_sealed text,
        totp_enabled_at timestamptz,
        created_at timestamptz NOT NULL,
        deleted_at timestamptz
      )`);
    await db.query(`CREATE UNIQUE INDEX users_email_key ON users (email)`);
    await db.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        refresh_token_hash text NOT NULL,
        previous_refresh_token_hash text,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        ip text,
        user_agent text,
        CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX sessions_user_id_idx ON sessions (user_id)`);
    await db.query(`CREATE UNIQUE INDEX sessions_refresh_token_hash_key ON sessions (refresh_token_hash)`);
    await db.query(`CREATE INDEX sessions_previous_refresh_token_hash_idx ON sessions (previous_refresh_token_hash)`);
    await db.query(`
      CREATE TABLE recovery_codes (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        code_hash text NOT NULL,
        used_at timestamptz,
        CONSTRAINT recovery_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX recovery_codes_user_id_idx ON recovery_codes (user_id)`);
    await db.query(`
      CREATE TABLE memberships (
        org_id uuid NOT NULL,
        user_id uuid NOT NULL,
        role text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, user_id),
        CONSTRAINT memberships_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
        CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX memberships_user_id_idx ON memberships (user_id)`);
    await db.query(`
      CREATE TABLE invites (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        email text NOT NULL,
        role text NOT NULL,
        token_hash text NOT NULL,
        invited_by uuid NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        CONSTRAINT invites_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX invites_org_id_idx ON invites (org_id)`);
    await db.query(`CREATE UNIQUE INDEX invites_token_hash_key ON invites (token_hash)`);
    await db.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        created_by uuid NOT NULL,
        name text NOT NULL,
        prefix text NOT NULL,
        secret_hash text NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT api_keys_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX api_keys_org_id_idx ON api_keys (org_id)`);
    await db.query(`CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix)`);
    await db.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        actor_user_id uuid,
        actor_ref text NOT NULL,
        org_id uuid,
        action text NOT NULL,
        target_type text,
        target_id text,
        ip text,
        user_agent text,
        details jsonb NOT NULL DEFAULT '{}'
      )`);
    await db.query(`CREATE INDEX audit_log_occurred_at_idx ON audit_log (occurred_at)`);
    await db.query(`CREATE INDEX audit_log_action_idx ON audit_log (action)`);
    await db.query(`CREATE INDEX audit_log_org_time_idx ON audit_log (org_id, occurred_at)`);
    await db.query(`CREATE INDEX audit_log_actor_time_idx ON audit_log (actor_user_id, occurred_at)`);
    // Append-only. The only updates allowed are the privacy redactions: IP and user agent nulled
    // (retention), and the actor anonymized (account deletion). Everything else is refused.
    await db.query(`
      CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'audit_log is append-only: DELETE refused' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.id IS DISTINCT FROM OLD.id
          OR NEW.occurred_at IS DISTINCT FROM OLD.occurred_at
          OR NEW.org_id IS DISTINCT FROM OLD.org_id
          OR NEW.action IS DISTINCT FROM OLD.action
          OR NEW.target_type IS DISTINCT FROM OLD.target_type
          OR NEW.target_id IS DISTINCT FROM OLD.target_id
          OR NEW.details IS DISTINCT FROM OLD.details
          OR (NEW.ip IS DISTINCT FROM OLD.ip AND NEW.ip IS NOT NULL)
          OR (NEW.user_agent IS DISTINCT FROM OLD.user_agent AND NEW.user_agent IS NOT NULL)
          OR (NEW.actor_user_id IS DISTINCT FROM OLD.actor_user_id AND NEW.actor_user_id IS NOT NULL)
          OR (NEW.actor_ref IS DISTINCT FROM OLD.actor_ref AND NEW.actor_ref NOT LIKE 'deleted:%')
        THEN
          RAISE EXCEPTION 'audit_log is append-only: only privacy redactions may change a row' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard()`);
    await db.query(`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard()`);
    await db.query(`
      CREATE TABLE email_outbox (
        id uuid PRIMARY KEY,
        to_address text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL,
        sent_at timestamptz,
        attempts integer NOT NULL DEFAULT 0
      )`);
    await db.query(`CREATE INDEX email_outbox_pending_idx ON email_outbox (created_at) WHERE sent_at IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['email_outbox', 'audit_log', 'api_keys', 'invites', 'memberships', 'recovery_codes', 'sessions', 'users', 'organizations']) {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await db.query(`DROP FUNCTION IF EXISTS audit_log_guard()`);
  }
}
