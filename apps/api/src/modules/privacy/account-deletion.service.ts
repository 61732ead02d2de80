import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { SecretBox } from '@anneal/providers';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { SECRET_BOX } from '../../core/crypto/secret-box.provider.js';
import { AppError, conflict, forbidden, unauthenticated } from '../../core/errors/app-error.js';
import { LOGGER } from '../../core/logging/logger.js';
import { ObjectStorage } from '../../core/storage/object-storage.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthInvalidationService } from '../auth/auth-invalidation.service.js';
import { PasswordService } from '../auth/password.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { TokenService } from '../auth/token.service.js';
import { TotpService } from '../auth/totp.service.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { TERMINAL_JOB_STATUSES } from '../jobs/job-state.js';
import { JobsService } from '../jobs/jobs.service.js';
import { NodesService } from '../nodes/nodes.service.js';
import type { OrgRole } from '../orgs/entities/membership.entity.js';
import { User } from '../users/entities/user.entity.js';
import { DataExport } from './entities/data-export.entity.js';
import { deletePrefix } from './object-prefix.js';
import { RetentionService } from './retention.service.js';

export interface ReauthenticationInput {
  password: string;
  totpCode?: string;
  recoveryCode?: string;
}

export interface AccountDeletionResult {
  deletedAt: string;
  /** Organizations only this user belonged to: their jobs were canceled, datasets and outputs deleted. */
  organizationsClosed: number;
  /** Shared organizations the user left (their data stays with the other members). */
  membershipsRemoved: number;
  jobsCanceled: number;
  datasetsDeleted: number;
  objectsDeleted: number;
}

/** The opaque reference kept records (audit actor, closed organizations) carry after deletion. */
export function deletedUserRef(userId: string, secret: string): string {
  return createHash('sha256').update(`${secret}:deleted-user:${userId}`).digest('hex').slice(0, 16);
}

/**
 * DELETE /v1/me. The rule for organizations: one the user is the only member of is closed with
 * them (active jobs canceled, holds released, datasets and job outputs deleted from storage, API
 * keys removed); in a shared organization only their membership goes, and the organization's data
 * stays with its other members — unless they are its only owner, which is refused until they
 * hand ownership to someone else. A closing provider org's nodes are removed (tokens revoked);
 * while one of them runs a customer's attempt, deletion is refused until it is drained. Personal data is removed (email, name, password hash, 2FA
 * secret, recovery codes, sessions, API keys they created, pending invites to their address,
 * emails to their address, data exports; in closed organizations also dataset and job names, validation prompts, training
 * logs and metrics); audit entries keep an anonymized actor (`deleted:<ref>`), and ledger and invoice
 * rows stay under the organization id (tax law), the organization renamed to that reference.
 */
@Injectable()
export class AccountDeletionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly jobs: JobsService,
    private readonly datasets: DatasetsService,
    private readonly nodes: NodesService,
    private readonly retention: RetentionService,
    private readonly audit: AuditService,
    private readonly invalidation: AuthInvalidationService,
    private readonly passwords: PasswordService,
    private readonly totp: TotpService,
    private readonly tokens: TokenService,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async deleteAccount(principal: Principal, input: ReauthenticationInput, meta: RequestMeta): Promise<AccountDeletionResult> {
    const user = await this.dataSource.manager.findOneBy(User, { id: principal.userId });
    if (!user || user.status === 'deleted') throw unauthenticated();
    await this.reauthenticate(user, input);

    const memberships = (await this.dataSource.query(
      `SELECT m.org_id AS "orgId", m.role,
              (SELECT count(*) FROM memberships o WHERE o.org_id = m.org_id AND o.user_id <> m.user_id)::int AS "others",
              (SELECT count(*) FROM memberships o WHERE o.org_id = m.org_id AND o.user_id <> m.user_id AND o.role = 'owner')::int AS "otherOwners"
         FROM memberships m WHERE m.user_id = $1`,
      [user.id],
    )) as { orgId: string; role: OrgRole; others: number; otherOwners: number }[];
    const blocking = memberships.filter((m) => m.others > 0 && m.role === 'owner' && m.otherOwners === 0);
    if (blocking.length > 0) {
      throw conflict(
        'transfer_ownership_first',
        `You are the only owner of ${blocking.length === 1 ? 'an organization' : `${blocking.length} organizations`} with other members. Make another member an owner (or remove the members) first, so the organization is not left without one.`,
      );
    }
    const closing = memberships.filter((m) => m.others === 0).map((m) => m.orgId);
    const leaving = memberships.filter((m) => m.others > 0).map((m) => m.orgId);
    // A node of a closing provider org that is training someone's job is not pulled from under it.
    const busy = closing.length
      ? ((await this.dataSource.query(
          `SELECT DISTINCT n.id FROM nodes n JOIN attempts a ON a.node_id = n.id AND a.status <> 'ended' WHERE n.org_id = ANY($1) AND n.deleted_at IS NULL`,
          [closing],
        )) as { id: string }[])
      : [];
    if (busy.length > 0) {
      throw conflict('nodes_busy', `${busy.length === 1 ? 'One of your nodes is' : `${busy.length} of your nodes are`} running a customer's job. Drain ${busy.length === 1 ? 'it' : 'them'} (POST /v1/provider/nodes/:id/drain) and delete the account once the job has finished.`, {
        nodeIds: busy.map((n) => n.id),
      });
    }
    const now = this.clock.now();
    const ref = deletedUserRef(user.id, this.config.AUTH_TOKEN_SECRET);
    const result: AccountDeletionResult = { deletedAt: now.toISOString(), organizationsClosed: closing.length, membershipsRemoved: leaving.length, jobsCanceled: 0, datasetsDeleted: 0, objectsDeleted: 0 };

    // Close the organizations only this user belonged to. Storage first: a failure stops here and
    // the request can be retried; nothing personal is removed until the data is gone.
    for (const orgId of closing) {
      const acting: Principal = { kind: 'session', userId: user.id, orgId, orgRole: 'owner', isAdmin: false, twoFactorEnabled: user.totpEnabledAt !== null, scopes: 'all', sessionId: principal.sessionId };
      const active = (await this.dataSource.query(`SELECT id FROM jobs WHERE org_id = $1 AND NOT (status = ANY($2))`, [orgId, TERMINAL_JOB_STATUSES])) as { id: string }[];
      for (const job of active) {
        await this.jobs.cancel(acting, job.id, meta);
        result.jobsCanceled += 1;
      }
      result.datasetsDeleted += await this.datasets.deleteAllForOrg(orgId);
      const jobs = (await this.dataSource.query(`SELECT id, status = ANY($2) AS terminal FROM jobs WHERE org_id = $1`, [orgId, TERMINAL_JOB_STATUSES])) as { id: string; terminal: boolean }[];
      // Nodes are removed: their tokens revoked, their messages refused, no more jobs placed on them.
      const nodes = (await this.dataSource.query(`SELECT id FROM nodes WHERE org_id = $1 AND deleted_at IS NULL`, [orgId])) as { id: string }[];
      for (const node of nodes) await this.nodes.remove(acting, node.id, meta);
      for (const job of jobs) {
        // A job still stopping (cancel requested on a running machine) may upload once more: its
        // outputs are deleted now and, unrecorded, again by the retention cron after it finishes.
        result.objectsDeleted += job.terminal ? await this.retention.purgeJobOutput(job.id, orgId, 'account_deleted', now) : await deletePrefix(this.storage, `jobs/${orgId}/${job.id}/`);
      }
    }
    const exports = await this.dataSource.manager.findBy(DataExport, { userId: user.id });
    for (const row of exports) if (row.objectKey) await this.storage.delete(row.objectKey);

    await this.dataSource.transaction(async (manager) => {
      await this.audit.record({ actor: principal, action: 'user.deleted', target: { type: 'user', id: user.id }, meta, details: { ref, organizationsClosed: closing.length, membershipsRemoved: leaving.length } }, manager);
      // The trigger on audit_log allows exactly these redactions: actor anonymized, IP and user agent nulled.
      await manager.query(`UPDATE audit_log SET actor_user_id = NULL, actor_ref = $2, ip = NULL, user_agent = NULL WHERE actor_user_id = $1`, [user.id, `deleted:${ref}`]);
      if (closing.length > 0) {
        await manager.query(`DELETE FROM api_keys WHERE org_id = ANY($1)`, [closing]);
        await manager.query(`DELETE FROM invites WHERE org_id = ANY($1)`, [closing]);
        await manager.query(`UPDATE organizations SET name = $2 WHERE id = ANY($1)`, [closing, `Deleted organization ${ref}`]);
        // What customers wrote stays nowhere: names, validation prompts, training logs and metrics.
        // Job rows, events and costs stay (they back the ledger and invoices).
        await manager.query(`UPDATE datasets SET name = 'deleted dataset' WHERE org_id = ANY($1)`, [closing]);
        await manager.query(`UPDATE jobs SET name = 'deleted job', recipe = jsonb_set(recipe, '{validationPrompts}', '[]'::jsonb) WHERE org_id = ANY($1)`, [closing]);
        await manager.query(`DELETE FROM job_logs WHERE job_id IN (SELECT id FROM jobs WHERE org_id = ANY($1))`, [closing]);
        await manager.query(`DELETE FROM job_metrics WHERE job_id IN (SELECT id FROM jobs WHERE org_id = ANY($1))`, [closing]);
      }
      await manager.query(`DELETE FROM api_keys WHERE created_by = $1`, [user.id]);
      if (user.email) {
        await manager.query(`DELETE FROM invites WHERE email = $1 AND accepted_at IS NULL`, [user.email]);
        await manager.query(`DELETE FROM email_outbox WHERE lower(to_address) = $1`, [user.email]);
      }
      await manager.query(`DELETE FROM sessions WHERE user_id = $1`, [user.id]);
      await manager.query(`DELETE FROM recovery_codes WHERE user_id = $1`, [user.id]);
      await manager.query(`DELETE FROM memberships WHERE user_id = $1`, [user.id]);
      await manager.query(`DELETE FROM data_exports WHERE user_id = $1`, [user.id]);
      await manager.update(User, { id: user.id }, {
        email: null,
        name: null,
        passwordHash: null,
        totpSecretSealed: null,
        totpEnabledAt: null,
        failedLoginCount: 0,
        lockedUntil: null,
        isAdmin: false,
        status: 'deleted',
        deletedAt: now,
      });
    });
    await this.invalidation.announce({ kind: 'user', userId: user.id });
    this.logger.info({ ...result, ref }, 'account deleted');
    return result;
  }

  private async reauthenticate(user: User, input: ReauthenticationInput): Promise<void> {
    if (!(await this.passwords.verify(user.passwordHash, input.password))) {
      throw forbidden('The password is wrong. Deleting the account needs your current password.', 'reauthentication_failed');
    }
    if (!user.totpEnabledAt) return;
    if (!input.totpCode && !input.recoveryCode) {
      throw forbidden('Two-factor authentication is on: give the current 6-digit code (or a recovery code) as well.', 'two_factor_required');
    }
    let ok = false;
    if (input.totpCode && user.totpSecretSealed) {
      ok = await this.totp.check(this.secretBox.open(user.totpSecretSealed), input.totpCode, this.clock.now());
    } else if (input.recoveryCode) {
      const compact = input.recoveryCode.trim().toLowerCase().replace(/[^a-z0-9]/g, '');
      const normalized = compact.length === 12 ? `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8, 12)}` : compact;
      const rows = (await this.dataSource.query(`SELECT 1 FROM recovery_codes WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, [user.id, this.tokens.hashSecret(normalized)])) as unknown[];
      ok = rows.length > 0;
    }
    if (!ok) throw new AppError(403, 'two_factor_invalid', 'That code is not valid. Codes change every 30 seconds; a recovery code works once.');
  }
}
