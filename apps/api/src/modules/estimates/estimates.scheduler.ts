import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { EstimatesRepository } from './estimates.repository.js';

/** Expired quotes are kept a week (a job keeps its own copy of the quote it was submitted with). */
export const QUOTE_RETENTION_AFTER_EXPIRY_MS = 7 * 24 * 3600 * 1000;

@Injectable()
export class EstimatesScheduler {
  constructor(
    private readonly repository: EstimatesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Hourly; a plain DELETE, so every replica may run it. */
  @Interval('estimates.prune-quotes', 3_600_000)
  async tick(): Promise<void> {
    if (!this.config.SCHEDULER_ENABLED) return;
    await this.pruneQuotes().catch((error: unknown) => this.logger.warn({ err: error }, 'pruning expired quotes failed'));
  }

  async pruneQuotes(): Promise<number> {
    const deleted = await this.repository.deleteExpiredBefore(new Date(this.clock.now().getTime() - QUOTE_RETENTION_AFTER_EXPIRY_MS));
    if (deleted > 0) this.logger.info({ deleted }, 'expired quotes pruned');
    return deleted;
  }
}
