import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { DatasetsService } from './datasets.service.js';

/** Advisory-lock key of the dataset retention sweep ("dsrt"). */
export const DATASET_RETENTION_LOCK_KEY = 0x64737274;

/** Every ten minutes, in one replica at a time: deletes datasets past their TTL and cleans up abandoned uploads. */
@Injectable()
export class DatasetsScheduler {
  constructor(
    private readonly datasets: DatasetsService,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Interval('datasets-retention', 600_000)
  async tick(): Promise<void> {
    if (!this.config.SCHEDULER_ENABLED) return;
    await this.sweep();
  }

  /** One retention run under the advisory lock; null when another replica holds it. */
  async sweep(): Promise<{ deleted: number; failed: number; abandoned: number } | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [DATASET_RETENTION_LOCK_KEY])) as { locked: boolean }[];
      if (!row?.locked) return null;
      try {
        const now = this.clock.now();
        const result = { ...(await this.datasets.deleteExpired(now)), abandoned: await this.datasets.failAbandonedUploads(now) };
        if (result.deleted > 0 || result.failed > 0 || result.abandoned > 0) this.logger.info(result, 'dataset retention: expired datasets deleted');
        return result;
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [DATASET_RETENTION_LOCK_KEY]);
      }
    } catch (error) {
      this.logger.error({ err: error }, 'dataset retention run failed');
      return null;
    } finally {
      await runner.release();
    }
  }
}
