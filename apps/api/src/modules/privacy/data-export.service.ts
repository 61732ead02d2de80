import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { returningRows } from '../../core/database/returning-rows.js';
import { AppError, notFound } from '../../core/errors/app-error.js';
import { LOGGER } from '../../core/logging/logger.js';
import { ObjectStorage } from '../../core/storage/object-storage.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { BillingService } from '../billing/billing.service.js';
import { DataExport } from './entities/data-export.entity.js';

const DAY_MS = 86_400_000;
const DOWNLOAD_URL_TTL_SECONDS = 900;
export const EXPORT_SCHEMA_VERSION = 1;

export interface DataExportView {
  id: string;
  status: DataExport['status'];
  progressPct: number;
  createdAt: string;
  finishedAt: string | null;
  expiresAt: string | null;
  sizeBytes: number | null;
  failure: string | null;
  download: { url: string; expiresAt: string; fileName: string } | null;
}

/**
 * Personal data exports: one JSON document with everything Anneal holds about a user and the
 * organizations they belong to (profile, memberships, sessions, API key metadata (never hashes),
 * datasets, jobs with events, invoices, statement lines, the audit entries they caused), built in
 * the background and stored encrypted in object storage for DATA_EXPORT_TTL_DAYS.
 */
@Injectable()
export class DataExportService {
  private readonly running = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly billing: BillingService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The user's current export (queued, running, or ready and not expired) or, when there is none
   * or `fresh` is asked for, a new one started in the background.
   */
  async startOrCurrent(principal: Principal, fresh: boolean, meta: RequestMeta): Promise<{ view: DataExportView; created: boolean }> {
    const now = this.clock.now();
    const latest = await this.dataSource.manager.findOne(DataExport, { where: { userId: principal.userId }, order: { createdAt: 'DESC' } });
    const current = latest && (latest.status === 'queued' || latest.status === 'running' || (!fresh && latest.status === 'ready' && latest.expiresAt && latest.expiresAt > now));
    if (latest && current) {
      if (latest.status === 'queued') this.kick(latest.id);
      return { view: await this.view(latest), created: false };
    }
    const row: DataExport = {
      id: this.newId(),
      userId: principal.userId,
      status: 'queued',
      progressPct: 0,
      objectKey: null,
      sizeBytes: null,
      failure: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      expiresAt: null,
    };
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(DataExport, row);
      await this.audit.record({ actor: principal, action: 'user.data_export_requested', target: { type: 'data_export', id: row.id }, meta }, manager);
    });
    this.kick(row.id);
    return { view: await this.view(row), created: true };
  }

  /** One export of this user; another user's is a 404. */
  async get(principal: Principal, id: string): Promise<DataExportView> {
    const row = await this.dataSource.manager.findOneBy(DataExport, { id, userId: principal.userId });
    if (!row) throw notFound('Export');
    if (row.status === 'queued') this.kick(row.id);
    return this.view(row);
  }

  /** Runs one export now (also what the background task calls). Claims it so two replicas never build it twice. */
  async process(id: string): Promise<void> {
    const now = this.clock.now();
    const claimed = returningRows<{ user_id: string }>(
      await this.dataSource.query(`UPDATE data_exports SET status = 'running', started_at = $2, progress_pct = 1 WHERE id = $1 AND status = 'queued' RETURNING user_id`, [id, now]),
    );
    const userId = claimed[0]?.user_id;
    if (!userId) return;
    try {
      const document = await this.build(userId, async (pct) => {
        await this.dataSource.manager.update(DataExport, { id }, { progressPct: pct });
      });
      const body = Buffer.from(JSON.stringify(document, null, 2));
      const key = `exports/${userId}/${id}.json`;
      await this.storage.put(key, body, 'application/json');
      const finished = this.clock.now();
      await this.dataSource.manager.update(DataExport, { id }, {
        status: 'ready',
        progressPct: 100,
        objectKey: key,
        sizeBytes: String(body.length),
        finishedAt: finished,
        expiresAt: new Date(finished.getTime() + this.config.DATA_EXPORT_TTL_DAYS * DAY_MS),
      });
      this.logger.info({ exportId: id, sizeBytes: body.length }, 'data export ready');
    } catch (error) {
      this.logger.error({ err: error, exportId: id }, 'data export failed');
      await this.dataSource.manager.update(DataExport, { id }, { status: 'failed', failure: 'The export could not be built; request a new one.', finishedAt: this.clock.now() });
    }
  }

  /** Queued exports left behind (a replica stopped mid-way): picked up by any replica. */
  async processQueued(limit = 10): Promise<number> {
    const rows = await this.dataSource.manager.find(DataExport, { where: { status: 'queued' }, order: { createdAt: 'ASC' }, take: limit });
    for (const row of rows) await this.process(row.id);
    return rows.length;
  }

  private kick(id: string): void {
    if (this.running.has(id)) return;
    this.running.add(id);
    setImmediate(() => {
      void this.process(id).finally(() => this.running.delete(id));
    });
  }

  private async view(row: DataExport): Promise<DataExportView> {
    let download: DataExportView['download'] = null;
    if (row.status === 'ready' && row.objectKey) {
      const fileName = `anneal-export-${row.createdAt.toISOString().slice(0, 10)}.json`;
      try {
        const get = await this.storage.presignGet(row.objectKey, DOWNLOAD_URL_TTL_SECONDS, this.clock.now(), fileName);
        download = { url: get.url, expiresAt: get.expiresAt.toISOString(), fileName };
      } catch {
        throw new AppError(503, 'storage_unavailable', 'File storage is unavailable right now; try again in a minute.');
      }
    }
    return {
      id: row.id,
      status: row.status,
      progressPct: row.progressPct,
      createdAt: row.createdAt.toISOString(),
      finishedAt: row.finishedAt?.toISOString() ?? null,
      expiresAt: row.expiresAt?.toISOString() ?? null,
      sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
      failure: row.failure,
      download,
    };
  }

  /** The archive: plain JSON, camelCase, amounts as micro-dollar strings, times in ISO 8601 UTC. */
  async build(userId: string, progress: (pct: number) => Promise<void> = async () => {}): Promise<Record<string, unknown>> {
    const q = <T = Record<string, unknown>>(sql: string, params: unknown[]) => this.dataSource.query(sql, params) as Promise<T[]>;
    const [user] = await q(
      `SELECT id, email, name, status, is_admin AS "isAdmin", personal_org_id AS "personalOrgId", totp_enabled_at IS NOT NULL AS "twoFactorEnabled", created_at AS "createdAt" FROM users WHERE id = $1`,
      [userId],
    );
    const memberships = await q<{ orgId: string; role: string }>(
      `SELECT m.org_id AS "orgId", m.role, m.created_at AS "joinedAt", o.name, o.personal, o.provider_enabled AS "providerEnabled", o.created_at AS "orgCreatedAt"
         FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.created_at`,
      [userId],
    );
    const sessions = await q(`SELECT id, created_at AS "createdAt", expires_at AS "expiresAt", revoked_at AS "revokedAt", ip, user_agent AS "userAgent" FROM sessions WHERE user_id = $1 ORDER BY created_at`, [userId]);
    const activity = await q(
      `SELECT occurred_at AS "occurredAt", action, org_id AS "orgId", target_type AS "targetType", target_id AS "targetId", ip, user_agent AS "userAgent" FROM audit_log WHERE actor_user_id = $1 ORDER BY occurred_at`,
      [userId],
    );
    await progress(10);
    const organizations: Record<string, unknown>[] = [];
    for (const [index, membership] of memberships.entries()) {
      organizations.push({ ...membership, ...(await this.orgData(membership.orgId)) });
      await progress(10 + Math.floor(((index + 1) / Math.max(1, memberships.length)) * 85));
    }
    return {
      schemaVersion: EXPORT_SCHEMA_VERSION,
      generatedAt: this.clock.now().toISOString(),
      note: 'Everything Anneal holds about this user and the organizations they belong to. Amounts are micro-dollars (1 USD = 1,000,000). Secrets (password hash, 2FA secret, API key hashes, tokens) are never exported.',
      user,
      sessions,
      activity,
      organizations,
    };
  }

  private async orgData(orgId: string): Promise<Record<string, unknown>> {
    const q = <T = Record<string, unknown>>(sql: string, params: unknown[]) => this.dataSource.query(sql, params) as Promise<T[]>;
    const members = await q(`SELECT m.user_id AS "userId", m.role, m.created_at AS "joinedAt" FROM memberships m WHERE m.org_id = $1 ORDER BY m.created_at`, [orgId]);
    const apiKeys = await q(
      `SELECT id, name, prefix, scopes, created_by AS "createdBy", created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt" FROM api_keys WHERE org_id = $1 ORDER BY created_at`,
      [orgId],
    );
    const datasets = await q(
      `SELECT id, name, format, status, declared_license AS "license", size_bytes::text AS "sizeBytes", sha256, sample_count::text AS "sampleCount", ttl_days AS "ttlDays",
              delete_after_training AS "deleteAfterTraining", encryption, created_at AS "createdAt", expires_at AS "expiresAt", deleted_at AS "deletedAt", deletion_reason AS "deletionReason"
         FROM datasets WHERE org_id = $1 ORDER BY created_at`,
      [orgId],
    );
    const jobs = await q<{ id: string }>(
      `SELECT id, name, status, recipe, dataset_id AS "datasetId", resources, provider_allowlist AS "providerAllowlist", budget_cap_micros::text AS "budgetCapMicros",
              cost_micros::text AS "costMicros", runtime_seconds AS "runtimeSeconds", artifact_keys AS "artifactKeys", final_message AS "finalMessage",
              created_by AS "createdBy", created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"
         FROM jobs WHERE org_id = $1 ORDER BY created_at`,
      [orgId],
    );
    const events = jobs.length
      ? await q<{ jobId: string }>(
          `SELECT job_id AS "jobId", at, type, attempt_id AS "attemptId", from_status AS "from", to_status AS "to", message, data FROM job_events WHERE job_id = ANY($1) ORDER BY at`,
          [jobs.map((j) => j.id)],
        )
      : [];
    const attempts = jobs.length
      ? await q<{ jobId: string }>(
          `SELECT id, job_id AS "jobId", number, provider_kind AS "providerKind", gpu_model AS "gpuModel", gpu_count AS "gpuCount", price_micros_per_gpu_hour::text AS "priceMicrosPerGpuHour",
                  status, end_reason AS "endReason", running_at AS "runningAt", ended_at AS "endedAt", billable_seconds AS "billableSeconds", cost_micros::text AS "costMicros"
             FROM attempts WHERE job_id = ANY($1) ORDER BY created_at`,
          [jobs.map((j) => j.id)],
        )
      : [];
    const invoices = await q(
      `SELECT id, period, period_start AS "periodStart", period_end AS "periodEnd", currency, charges_micros::text AS "chargesMicros", credits_micros::text AS "creditsMicros",
              top_ups_micros::text AS "topUpsMicros", total_micros::text AS "totalMicros", lines, created_at AS "createdAt" FROM invoices WHERE org_id = $1 ORDER BY period_start`,
      [orgId],
    );
    const topUps = await q(
      `SELECT id, processor, amount_micros::text AS "amountMicros", status, created_at AS "createdAt", completed_at AS "completedAt" FROM top_ups WHERE org_id = $1 ORDER BY created_at`,
      [orgId],
    );
    const statement: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page += 1) {
      const result = await this.billing.statement(orgId, { cursor, limit: 200 });
      statement.push(...result.lines);
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    return {
      members,
      apiKeys,
      datasets,
      jobs: jobs.map((job) => ({ ...job, attempts: attempts.filter((a) => a.jobId === job.id), events: events.filter((e) => e.jobId === job.id) })),
      invoices,
      topUps,
      statement,
    };
  }
}
