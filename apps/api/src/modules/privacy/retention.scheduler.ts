import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { LOGGER } from '../../core/logging/logger.js';
import { PRIVACY_LOCK_KEYS, withAdvisoryLock } from './advisory-lock.js';
import { DataExportService } from './data-export.service.js';
import { RetentionService } from './retention.service.js';

const HOUR_MS = 3_600_000;

/**
 * The privacy crons. Each runs hourly in every replica that has SCHEDULER_ENABLED, but only the
 * one holding its Postgres advisory lock does the work; every run is logged with its counts.
 * Each is idempotent: running it twice deletes nothing twice.
 */
@Injectable()
export class RetentionScheduler {
  constructor(
    private readonly retention: RetentionService,
    private readonly exports: DataExportService,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Interval('privacy-job-outputs', HOUR_MS)
  async jobOutputsTick(): Promise<void> {
    if (this.config.SCHEDULER_ENABLED) await this.runJobOutputs();
  }

  @Interval('privacy-trained-datasets', 10 * 60_000)
  async trainedDatasetsTick(): Promise<void> {
    if (this.config.SCHEDULER_ENABLED) await this.runTrainedDatasets();
  }

  @Interval('privacy-job-telemetry', HOUR_MS)
  async jobTelemetryTick(): Promise<void> {
    if (this.config.SCHEDULER_ENABLED) await this.runJobTelemetry();
  }

  @Interval('privacy-network-identifiers', HOUR_MS)
  async networkIdentifiersTick(): Promise<void> {
    if (this.config.SCHEDULER_ENABLED) await this.runNetworkIdentifiers();
  }

  @Interval('privacy-sent-emails', HOUR_MS)
  async sentEmailsTick(): Promise<void> {
    if (this.config.SCHEDULER_ENABLED) await this.runSentEmails();
  }

  @Interval('privacy-exports', HOUR_MS)
  async exportsTick(): Promise<void> {
    if (this.config.SCHEDULER_ENABLED) await this.runExports();
  }

  runJobOutputs(now?: Date) {
    return this.run('job outputs', PRIVACY_LOCK_KEYS.jobOutputs, () => this.retention.purgeJobOutputs(now));
  }

  runTrainedDatasets() {
    return this.run('datasets deleted after training', PRIVACY_LOCK_KEYS.trainedDatasets, () => this.retention.deleteTrainedDatasets());
  }

  runJobTelemetry(now?: Date) {
    return this.run('job logs and metrics', PRIVACY_LOCK_KEYS.jobTelemetry, () => this.retention.purgeJobTelemetry(now));
  }

  runNetworkIdentifiers(now?: Date) {
    return this.run('IP addresses and user agents', PRIVACY_LOCK_KEYS.networkIdentifiers, () => this.retention.redactNetworkIdentifiers(now));
  }

  runSentEmails(now?: Date) {
    return this.run('sent emails', PRIVACY_LOCK_KEYS.sentEmails, () => this.retention.purgeSentEmails(now));
  }

  runExports(now?: Date) {
    return this.run('data exports', PRIVACY_LOCK_KEYS.exports, async () => ({ ...(await this.retention.expireDataExports(now)), resumed: await this.exports.processQueued() }));
  }

  private async run<T extends object>(what: string, key: number, work: () => Promise<T>): Promise<T | null> {
    const startedAt = Date.now();
    try {
      const result = await withAdvisoryLock(this.dataSource, key, work);
      if (result === null) {
        this.logger.debug({ retention: what }, 'retention run skipped: another replica holds the lock');
        return null;
      }
      const fields: Record<string, unknown> = { retention: what, ...result, durationMs: Date.now() - startedAt };
      this.logger.info(fields, `retention: ${what}`);
      return result;
    } catch (error) {
      this.logger.error({ err: error, retention: what }, `retention run failed: ${what}`);
      return null;
    }
  }
}
