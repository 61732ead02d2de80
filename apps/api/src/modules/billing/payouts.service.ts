import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { BillingService, statementLineView } from './billing.service.js';
import { money } from './money.js';

/**
 * Provider payouts: earnings (the provider's payable) older than the dispute window become a payout
 * record and a transfer payable → payouts clearing once they reach the minimum. Re-running finds
 * nothing more due (what was paid is debited from the payable).
 */
@Injectable()
export class PayoutsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly billing: BillingService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get disputeWindowMs(): number {
    return this.config.PAYOUT_DISPUTE_WINDOW_HOURS * 3_600_000;
  }

  get minimumPayoutMicros(): bigint {
    return BigInt(Math.round(this.config.PAYOUT_MINIMUM_USD * 100)) * 10_000n;
  }

  /** Pays every provider whose settled earnings reached the minimum; returns counts and the total. */
  async runPayouts(now: Date = this.clock.now()): Promise<{ considered: number; paid: number; totalMicros: bigint }> {
    const providers: { owner_id: string }[] = await this.dataSource.query(
      `SELECT owner_id FROM ledger_accounts WHERE kind = 'provider_payable' AND credits_posted > debits_posted + debits_pending ORDER BY owner_id`,
    );
    let paid = 0;
    let totalMicros = 0n;
    for (const { owner_id: providerOrgId } of providers) {
      const result = await this.billing.store.createPayout({
        providerOrgId,
        payoutId: this.newId(),
        now,
        disputeWindowMs: this.disputeWindowMs,
        minimumPayoutMicros: this.minimumPayoutMicros,
      });
      if (result.kind !== 'payout') continue;
      if (result.result === 'ok') {
        paid += 1;
        totalMicros += result.plan.payout.amountMicros;
      } else {
        this.logger.error({ providerOrgId, result: result.result }, 'payout transfer refused by the ledger');
      }
    }
    return { considered: providers.length, paid, totalMicros };
  }

  /** A provider org's earnings: payable now, paid out so far, and its recent ledger lines. */
  async earnings(providerOrgId: string, page: { cursor?: string; limit?: number }) {
    const [{ payableMicros }, paidRows, statement] = await Promise.all([
      this.billing.store.getProviderBalance(providerOrgId),
      this.dataSource.query(`SELECT COALESCE(sum(amount_micros), 0)::text AS total, count(*)::int AS n FROM ledger_payouts WHERE provider_org_id = $1`, [providerOrgId]),
      this.billing.store.listProviderStatement(providerOrgId, { cursor: page.cursor ?? null, limit: page.limit ?? 20 }),
    ]);
    return {
      orgId: providerOrgId,
      currency: 'usd',
      payable: money(payableMicros),
      paidOut: money(BigInt(paidRows[0].total)),
      payoutCount: paidRows[0].n as number,
      disputeWindowHours: this.config.PAYOUT_DISPUTE_WINDOW_HOURS,
      minimumPayout: money(this.minimumPayoutMicros),
      lines: statement.lines.map(statementLineView),
      nextCursor: statement.nextCursor,
    };
  }

  async payouts(providerOrgId: string, page: { before?: string; limit?: number }) {
    const limit = Math.min(Math.max(page.limit ?? 50, 1), 200);
    const rows: { id: string; amount_micros: string; cutoff: Date; transfer_id: string; created_at: Date }[] = await this.dataSource.query(
      `SELECT id, amount_micros::text AS amount_micros, cutoff, transfer_id, created_at FROM ledger_payouts
        WHERE provider_org_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3`,
      [providerOrgId, page.before ?? null, limit + 1],
    );
    const payouts = rows.slice(0, limit).map((row) => ({
      id: row.id,
      amount: money(BigInt(row.amount_micros)),
      earningsUpTo: row.cutoff.toISOString(),
      transferId: row.transfer_id,
      createdAt: row.created_at.toISOString(),
    }));
    return { payouts, nextCursor: rows.length > limit ? payouts[payouts.length - 1]!.id : null };
  }
}
