import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { returningRows } from '../../core/database/returning-rows.js';
import { LOGGER } from '../../core/logging/logger.js';
import { ObjectStorage } from '../../core/storage/object-storage.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { TERMINAL_JOB_STATUSES } from '../jobs/job-state.js';
import { JobsService } from '../jobs/jobs.service.js';
import { DataExport } from './entities/data-export.entity.js';
import { deletePrefix } from './object-prefix.js';

const DAY_MS = 86_400_000;
const BATCH = 5_000;

export interface JobOutputsResult {
  jobs: number;
  objects: number;
  failed: number;
}

/**
 * The retention rules, each one idempotent and callable on its own (the crons in
 * `RetentionScheduler` run them under advisory locks; tests call them with a TestClock):
 * job outputs after the download window, job logs and metrics after 90 days, raw IPs and user
 * agents after 90 days, and personal data exports after their TTL. Datasets have their own TTL
 * cron (DatasetsScheduler) and "delete after training" (AttemptLifecycle.endAttempt).
 */
@Injectable()
export class RetentionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly jobs: JobsService,
    private readonly datasets: DatasetsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Deletes the stored outputs (artifacts, checkpoints, uploaded logs: everything under
   * `jobs/<org>/<job>/`) of jobs that finished more than JOB_OUTPUT_RETENTION_DAYS ago and clears
   * their `artifact_keys`; the job row, its events and costs stay. A job is purged once.
   */
  async purgeJobOutputs(now: Date = this.clock.now(), options: { batchSize?: number; maxBatches?: number } = {}): Promise<JobOutputsResult> {
    const batchSize = options.batchSize ?? 100;
    const maxBatches = options.maxBatches ?? 20;
    const cutoff = new Date(now.getTime() - this.config.JOB_OUTPUT_RETENTION_DAYS * DAY_MS);
    const result: JobOutputsResult = { jobs: 0, objects: 0, failed: 0 };
    // A job that fails is skipped for the rest of this run and retried on the next one.
    const failedIds: string[] = [];
    for (let batch = 0; batch < maxBatches; batch += 1) {
      const rows = (await this.dataSource.query(
        `SELECT j.id, j.org_id FROM jobs j LEFT JOIN job_output_purges p ON p.job_id = j.id
          WHERE j.status = ANY($1) AND j.finished_at <= $2 AND p.job_id IS NULL AND NOT (j.id = ANY($4::uuid[]))
          ORDER BY j.finished_at ASC LIMIT $3`,
        [TERMINAL_JOB_STATUSES, cutoff, batchSize, failedIds],
      )) as { id: string; org_id: string }[];
      for (const row of rows) {
        try {
          result.objects += await this.purgeJobOutput(row.id, row.org_id, 'retention', now);
          result.jobs += 1;
        } catch (error) {
          result.failed += 1;
          failedIds.push(row.id);
          this.logger.warn({ err: error, jobId: row.id }, 'job outputs could not be deleted; will retry');
        }
      }
      if (rows.length < batchSize) break;
    }
    return result;
  }

  /** Deletes one job's stored outputs (storage first, so a failure leaves it to retry) and records it. Returns the objects deleted. */
  async purgeJobOutput(jobId: string, orgId: string, reason: 'retention' | 'account_deleted', now: Date = this.clock.now()): Promise<number> {
    const objects = await deletePrefix(this.storage, `jobs/${orgId}/${jobId}/`);
    await this.dataSource.transaction(async (manager) => {
      const inserted = (await manager.query(
        `INSERT INTO job_output_purges (job_id, org_id, objects_deleted, reason, purged_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id) DO NOTHING RETURNING job_id`,
        [jobId, orgId, objects, reason, now],
      )) as unknown[];
      await manager.query(`UPDATE jobs SET artifact_keys = '{}', last_checkpoint_key = NULL WHERE id = $1`, [jobId]);
      if (inserted.length > 0 && reason === 'retention') {
        await this.jobs.recordEvent(manager, jobId, null, 'outputs_deleted', null, null, `The download window ended: the artifacts and checkpoints (${objects} files) were deleted. The job's record, events and costs are kept.`, { objects });
      }
    });
    return objects;
  }

  /**
   * The safety net of "delete after training": a dataset so marked that a job has trained on
   * successfully and no job still uses is deleted, in case the deletion right after the job
   * (AttemptLifecycle.endAttempt) failed, e.g. because storage was down at that moment.
   */
  async deleteTrainedDatasets(limit = 500): Promise<{ deleted: number; failed: number }> {
    const rows = (await this.dataSource.query(
      `SELECT d.id FROM datasets d
        WHERE d.delete_after_training AND d.status <> 'deleted'
          AND EXISTS (SELECT 1 FROM jobs j WHERE j.dataset_id = d.id AND j.status = 'succeeded')
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.dataset_id = d.id AND NOT (j.status = ANY($1)))
        LIMIT $2`,
      [TERMINAL_JOB_STATUSES, limit],
    )) as { id: string }[];
    let deleted = 0;
    let failed = 0;
    for (const row of rows) {
      try {
        if (await this.datasets.deleteAfterTraining(row.id)) deleted += 1;
      } catch (error) {
        failed += 1;
        this.logger.warn({ err: error, datasetId: row.id }, 'trained dataset could not be deleted; will retry');
      }
    }
    return { deleted, failed };
  }

  /** Deletes job log lines and metric points older than JOB_LOG_RETENTION_DAYS, in batches. */
  async purgeJobTelemetry(now: Date = this.clock.now()): Promise<{ logs: number; metrics: number }> {
    const cutoff = new Date(now.getTime() - this.config.JOB_LOG_RETENTION_DAYS * DAY_MS);
    const logs = await this.deleteInBatches('job_logs', 'at', cutoff);
    const metrics = await this.deleteInBatches('job_metrics', 'at', cutoff);
    return { logs, metrics };
  }

  /**
   * Nulls raw IP addresses and user agents older than NETWORK_IDENTIFIER_RETENTION_DAYS on audit
   * entries (the append-only trigger allows exactly this redaction) and sessions; the rows stay.
   */
  async redactNetworkIdentifiers(now: Date = this.clock.now()): Promise<{ auditEntries: number; sessions: number }> {
    const cutoff = new Date(now.getTime() - this.config.NETWORK_IDENTIFIER_RETENTION_DAYS * DAY_MS);
    let auditEntries = 0;
    for (;;) {
      const rows = (await this.dataSource.query(
        `UPDATE audit_log SET ip = NULL, user_agent = NULL WHERE id IN (
           SELECT id FROM audit_log WHERE occurred_at < $1 AND (ip IS NOT NULL OR user_agent IS NOT NULL) LIMIT ${BATCH}) RETURNING id`,
        [cutoff],
      )) as unknown;
      const count = affected(rows);
      auditEntries += count;
      if (count < BATCH) break;
    }
    const sessions = affected(
      await this.dataSource.query(`UPDATE sessions SET ip = NULL, user_agent = NULL WHERE created_at < $1 AND (ip IS NOT NULL OR user_agent IS NOT NULL) RETURNING id`, [cutoff]),
    );
    return { auditEntries, sessions };
  }

  /**
   * Deletes sent emails (address, subject, body: invites, sign-in notices) older than
   * NETWORK_IDENTIFIER_RETENTION_DAYS; unsent ones stay for the sender to retry.
   */
  async purgeSentEmails(now: Date = this.clock.now()): Promise<{ emails: number }> {
    const cutoff = new Date(now.getTime() - this.config.NETWORK_IDENTIFIER_RETENTION_DAYS * DAY_MS);
    let emails = 0;
    for (;;) {
      const count = affected(await this.dataSource.query(`DELETE FROM email_outbox WHERE id IN (SELECT id FROM email_outbox WHERE sent_at < $1 LIMIT ${BATCH}) RETURNING id`, [cutoff]));
      emails += count;
      if (count < BATCH) return { emails };
    }
  }

  /** Deletes the archives of personal data exports past their expiry and marks them expired. */
  async expireDataExports(now: Date = this.clock.now()): Promise<{ expired: number; failed: number }> {
    const rows = await this.dataSource.manager
      .createQueryBuilder(DataExport, 'e')
      .where("e.status = 'ready' AND e.expires_at <= :now", { now })
      .orderBy('e.expires_at', 'ASC')
      .limit(500)
      .getMany();
    let expired = 0;
    let failed = 0;
    for (const row of rows) {
      try {
        if (row.objectKey) await this.storage.delete(row.objectKey);
        await this.dataSource.manager.update(DataExport, { id: row.id, status: 'ready' }, { status: 'expired', objectKey: null });
        expired += 1;
      } catch (error) {
        failed += 1;
        this.logger.warn({ err: error, exportId: row.id }, 'expired data export could not be deleted; will retry');
      }
    }
    return { expired, failed };
  }

  private async deleteInBatches(table: 'job_logs' | 'job_metrics', column: 'at', cutoff: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await this.dataSource.query(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${column} < $1 LIMIT ${BATCH}) RETURNING id`, [cutoff]);
      const count = affected(result);
      total += count;
      if (count < BATCH) return total;
    }
  }
}

/** Row count of an UPDATE/DELETE … RETURNING. */
function affected(result: unknown): number {
  return returningRows<unknown>(result).length;
}
