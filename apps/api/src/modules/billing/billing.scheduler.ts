import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression, Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { BillingService } from './billing.service.js';
import { InvoicesService } from './invoices.service.js';
import { PayoutsService } from './payouts.service.js';

/** Advisory lock keys of the billing crons (one runner at a time across replicas). */
export const BILLING_LOCKS = { expireHolds: 0x62696c01, payouts: 0x62696c02, invoices: 0x62696c03 } as const;

/**
 * Billing's crons, each a singleton across replicas under a Postgres advisory lock (a replica that
 * does not get the lock skips the run). Gated by SCHEDULER_ENABLED; tests call the `run…` methods.
 */
@Injectable()
export class BillingScheduler {
  constructor(
    private readonly dataSource: DataSource,
    private readonly billing: BillingService,
    private readonly payouts: PayoutsService,
    private readonly invoices: InvoicesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Interval('billing-expire-holds', 60_000)
  async expireHoldsTick(): Promise<void> {
    if (this.config.SCHEDULER_ENABLED) await this.runExpireHolds().catch(() => null); // logged in locked()
  }

  @Cron(CronExpression.EVERY_HOUR, { name: 'billing-payouts' })
  async payoutsTick(): Promise<void> {
    if (this.config.SCHEDULER_ENABLED) await this.runPayouts().catch(() => null); // logged in locked()
  }

  /** Hourly, so a month whose first hour was missed (deploy, outage) is still invoiced; idempotent. */
  @Cron(CronExpression.EVERY_HOUR, { name: 'billing-invoices' })
  async invoicesTick(): Promise<void> {
    if (this.config.SCHEDULER_ENABLED) await this.runMonthlyInvoices().catch(() => null); // logged in locked()
  }

  async runExpireHolds(now: Date = this.clock.now()): Promise<{ expired: number } | null> {
    return this.locked('expire-holds', BILLING_LOCKS.expireHolds, async () => {
      const expired = (await this.billing.expirePendingHolds(now)).length;
      if (expired > 0) this.logger.info({ cron: 'billing-expire-holds', expired }, 'expired holds released');
      return { expired };
    });
  }

  async runPayouts(now: Date = this.clock.now()): Promise<{ considered: number; paid: number; totalMicros: bigint } | null> {
    return this.locked('payouts', BILLING_LOCKS.payouts, async () => {
      const result = await this.payouts.runPayouts(now);
      this.logger.info({ cron: 'billing-payouts', considered: result.considered, paid: result.paid, totalMicros: result.totalMicros.toString() }, 'payouts run');
      return result;
    });
  }

  async runMonthlyInvoices(now: Date = this.clock.now()): Promise<{ period: string; created: number; existing: number } | null> {
    return this.locked('invoices', BILLING_LOCKS.invoices, async () => {
      const result = await this.invoices.generateMonthlyInvoices(now);
      if (result.created > 0) this.logger.info({ cron: 'billing-invoices', ...result }, 'monthly invoices generated');
      return result;
    });
  }

  /** Runs `fn` when this process gets the advisory lock; null when another runner holds it. */
  private async locked<T>(name: string, key: number, fn: () => Promise<T>): Promise<T | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [row] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [key]);
      if (!row?.locked) {
        this.logger.debug({ cron: name }, 'another replica holds the lock; skipped');
        return null;
      }
      try {
        return await fn();
      } catch (error) {
        this.logger.error({ err: error, cron: name }, 'billing cron failed');
        throw error;
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [key]);
      }
    } finally {
      await runner.release();
    }
  }
}
