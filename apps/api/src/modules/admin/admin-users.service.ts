import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { returningRows } from '../../core/database/returning-rows.js';
import { badRequest, conflict, notFound } from '../../core/errors/app-error.js';
import { LOGGER } from '../../core/logging/logger.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthInvalidationService } from '../auth/auth-invalidation.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { TERMINAL_JOB_STATUSES } from '../jobs/job-state.js';
import { JobsService } from '../jobs/jobs.service.js';
import { ModerationService } from '../moderation/moderation.service.js';
import { EmailOutboxService } from '../notifications/email-outbox.service.js';
import { User } from '../users/entities/user.entity.js';

const FLAG_WINDOW_DAYS = 90;

export interface UserFlag {
  orgId: string;
  rejections: number;
  decisions: number;
  rejectionRate: number;
}

interface UserRow {
  id: string;
  email: string | null;
  name: string | null;
  status: string;
  is_admin: boolean;
  totp_enabled_at: Date | null;
  personal_org_id: string;
  created_at: Date;
}

/**
 * Account review: search users, see which are flagged by their moderation rejection rate, suspend
 * (the auth guard then refuses them; their live jobs are asked to stop) and reinstate.
 */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly invalidation: AuthInvalidationService,
    private readonly moderation: ModerationService,
    private readonly jobs: JobsService,
    private readonly emails: EmailOutboxService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Users whose owned organizations' moderation rejection rate passes the threshold, by user id. */
  async flaggedUsers(): Promise<Map<string, UserFlag>> {
    const since = new Date(this.clock.now().getTime() - FLAG_WINDOW_DAYS * 86_400_000);
    const counts = await this.moderation.rejectionCountsByOrg({ since, minRejections: this.config.MODERATION_FLAG_MIN_REJECTIONS, limit: 1000 });
    const flaggedOrgs = counts.filter((c) => c.total > 0 && c.rejections / c.total >= this.config.MODERATION_FLAG_REJECTION_RATE);
    if (flaggedOrgs.length === 0) return new Map();
    const owners: { org_id: string; user_id: string }[] = await this.dataSource.query(`SELECT org_id, user_id FROM memberships WHERE role = 'owner' AND org_id = ANY($1::uuid[])`, [flaggedOrgs.map((o) => o.orgId)]);
    const byOrg = new Map(flaggedOrgs.map((o) => [o.orgId, o]));
    const flags = new Map<string, UserFlag>();
    for (const owner of owners) {
      const c = byOrg.get(owner.org_id);
      if (!c || flags.has(owner.user_id)) continue;
      flags.set(owner.user_id, { orgId: c.orgId, rejections: c.rejections, decisions: c.total, rejectionRate: Math.round((c.rejections / c.total) * 1000) / 1000 });
    }
    return flags;
  }

  async list(admin: Principal, query: { q?: string; flagged?: boolean; status?: string; limit?: number; before?: string }, meta: RequestMeta) {
    if (query.status && !['active', 'suspended', 'deleted'].includes(query.status)) throw badRequest('validation_failed', 'status must be active, suspended or deleted.');
    if (query.before && !/^[0-9a-f-]{36}$/i.test(query.before)) throw badRequest('validation_failed', 'before must be a user id from the previous page.');
    const limit = clamp(query.limit);
    const flags = await this.flaggedUsers();
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.q) {
      params.push(`%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(email ILIKE $${params.length} OR name ILIKE $${params.length})`);
    }
    if (query.status) {
      params.push(query.status);
      where.push(`status = $${params.length}`);
    }
    if (query.flagged) {
      params.push([...flags.keys()]);
      where.push(`id = ANY($${params.length}::uuid[])`);
    }
    if (query.before) {
      params.push(query.before);
      where.push(`id < $${params.length}`);
    }
    params.push(limit + 1);
    const rows: UserRow[] = await this.dataSource.query(
      `SELECT id, email, name, status, is_admin, totp_enabled_at, personal_org_id, created_at FROM users ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    await this.audit.record({ actor: admin, action: 'admin.users_listed', meta, details: { q: query.q ?? null, flagged: query.flagged ?? false, status: query.status ?? null } });
    const items = rows.slice(0, limit);
    return { items: items.map((u) => view(u, flags.get(u.id) ?? null)), nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  async get(admin: Principal, userId: string, meta: RequestMeta) {
    const [row]: UserRow[] = await this.dataSource.query('SELECT id, email, name, status, is_admin, totp_enabled_at, personal_org_id, created_at FROM users WHERE id = $1', [userId]);
    if (!row) throw notFound('User');
    await this.audit.record({ actor: admin, action: 'admin.user_viewed', target: { type: 'user', id: userId }, meta });
    const flags = await this.flaggedUsers();
    return view(row, flags.get(userId) ?? null);
  }

  /**
   * Suspends an account: it can no longer sign in or use its keys, its live jobs are asked to stop,
   * and the nodes of its personal org are quarantined (no offers) until it is reinstated.
   */
  async suspend(admin: Principal, userId: string, reason: string, meta: RequestMeta) {
    if (userId === admin.userId) throw conflict('cannot_suspend_self', 'You cannot suspend your own account.');
    const now = this.clock.now();
    const user = await this.dataSource.transaction(async (tx) => {
      const found = await tx.findOne(User, { where: { id: userId }, lock: { mode: 'pessimistic_write' } });
      if (!found) throw notFound('User');
      if (found.status === 'deleted') throw conflict('user_deleted', 'This account was deleted; there is nothing to suspend.');
      if (found.status === 'suspended') throw conflict('already_suspended', 'This account is suspended already.');
      await tx.update(User, { id: userId }, { status: 'suspended' });
      // Its personal org's nodes stop offering GPUs with it (released again on reinstatement).
      const quarantined = returningRows<{ id: string }>(
        await tx.query(`UPDATE nodes SET quarantined_at = $2, quarantine_reason = $3 WHERE org_id = $1 AND deleted_at IS NULL AND quarantined_at IS NULL RETURNING id`, [
          found.personalOrgId,
          now,
          suspensionReason(userId),
        ]),
      );
      if (quarantined.length > 0) {
        await this.audit.record({ actor: admin, orgId: found.personalOrgId, action: 'node.quarantined', target: { type: 'user', id: userId }, meta, details: { nodeIds: quarantined.map((n) => n.id), cause: 'account_suspended' } }, tx);
      }
      await this.audit.record({ actor: admin, orgId: found.personalOrgId, action: 'admin.user_suspended', target: { type: 'user', id: userId }, meta, details: { reason } }, tx);
      if (found.email) {
        await this.emails.enqueue(tx, { to: found.email, subject: 'Anneal: your account is suspended', body: `Your Anneal account was suspended on ${now.toISOString()} for review.\n\nReason: ${reason}\n\nRunning jobs are being stopped. Reply to this email to have the decision reviewed.` });
      }
      return found;
    });
    // Its sessions and keys stop now, on every replica, not when a cached principal expires.
    await this.invalidation.announce({ kind: 'user', userId });
    const canceledJobIds = await this.stopJobs(admin, user, meta);
    await this.audit.record({ actor: admin, orgId: user.personalOrgId, action: 'admin.user_jobs_stopped', target: { type: 'user', id: userId }, meta, details: { jobIds: canceledJobIds } });
    return { ...(await this.get(admin, userId, meta)), stoppedJobIds: canceledJobIds };
  }

  async reinstate(admin: Principal, userId: string, note: string | undefined, meta: RequestMeta) {
    await this.dataSource.transaction(async (tx) => {
      const found = await tx.findOne(User, { where: { id: userId }, lock: { mode: 'pessimistic_write' } });
      if (!found) throw notFound('User');
      if (found.status !== 'suspended') throw conflict('not_suspended', 'Only a suspended account can be reinstated.');
      await tx.update(User, { id: userId }, { status: 'active' });
      const released = returningRows<{ id: string }>(
        await tx.query('UPDATE nodes SET quarantined_at = NULL, quarantine_reason = NULL WHERE quarantine_reason = $1 RETURNING id', [suspensionReason(userId)]),
      );
      if (released.length > 0) {
        await this.audit.record({ actor: admin, orgId: found.personalOrgId, action: 'node.released', target: { type: 'user', id: userId }, meta, details: { nodeIds: released.map((n) => n.id), cause: 'account_reinstated' } }, tx);
      }
      await this.audit.record({ actor: admin, orgId: found.personalOrgId, action: 'admin.user_reinstated', target: { type: 'user', id: userId }, meta, details: { note: note ?? null } }, tx);
      if (found.email) await this.emails.enqueue(tx, { to: found.email, subject: 'Anneal: your account is active again', body: `Your Anneal account was reinstated.${note ? `\n\n${note}` : ''}` });
    });
    return this.get(admin, userId, meta);
  }

  /**
   * Asks every live job the user submitted (or of their personal org) to stop, as a cancel by the
   * user would: queued jobs end at once (hold released); running ones get `cancel_requested` and
   * the scheduler's sweep tells the machine to checkpoint and stop.
   */
  private async stopJobs(admin: Principal, user: User, meta: RequestMeta): Promise<string[]> {
    const jobs: { id: string; org_id: string }[] = await this.dataSource.query(
      `SELECT id, org_id FROM jobs WHERE (created_by = $1 OR org_id = $2) AND status <> ALL($3::text[]) ORDER BY created_at`,
      [user.id, user.personalOrgId, TERMINAL_JOB_STATUSES],
    );
    const stopped: string[] = [];
    for (const job of jobs) {
      try {
        await this.jobs.cancel({ ...admin, orgId: job.org_id }, job.id, meta);
        stopped.push(job.id);
      } catch (error) {
        this.logger.warn({ err: error, jobId: job.id }, 'stopping a suspended user\'s job failed');
      }
    }
    return stopped;
  }
}

/** The quarantine reason that marks nodes held because their owner's account is suspended. */
function suspensionReason(userId: string): string {
  return `account_suspended:${userId}`;
}

function view(u: UserRow, flag: UserFlag | null) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    status: u.status,
    isAdmin: u.is_admin,
    twoFactorEnabled: u.totp_enabled_at !== null,
    personalOrgId: u.personal_org_id,
    createdAt: u.created_at.toISOString(),
    flagged: flag !== null,
    moderation: flag,
  };
}

function clamp(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return 50;
  return Math.min(200, Math.max(1, Math.floor(limit)));
}
