import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { BenchmarksRepository } from './benchmarks.repository.js';

/**
 * Sample receipts only need to outlive any replay of their message: the samples and attempt-events
 * streams keep messages 7 days, so receipts are kept 30.
 */
export const SAMPLE_RECEIPT_RETENTION_MS = 30 * 24 * 3600 * 1000;

@Injectable()
export class BenchmarksScheduler {
  constructor(
    private readonly repository: BenchmarksRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Hourly; a plain DELETE, so every replica may run it. */
  @Interval('benchmarks.prune-receipts', 3_600_000)
  async tick(): Promise<void> {
    if (!this.config.SCHEDULER_ENABLED) return;
    await this.pruneReceipts().catch((error: unknown) => this.logger.warn({ err: error }, 'pruning benchmark sample receipts failed'));
  }

  async pruneReceipts(): Promise<number> {
    return this.repository.deleteReceiptsBefore(new Date(this.clock.now().getTime() - SAMPLE_RECEIPT_RETENTION_MS));
  }
}
