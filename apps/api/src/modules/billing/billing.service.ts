import { Inject, Injectable } from '@nestjs/common';
import {
  TransferFlags,
  accountIdFor,
  attemptCostMicros,
  deriveUuid,
  isTransferApplied,
  jobHoldId,
  planAttemptSettlement,
  planJobHold,
  type AttemptSettlementPlan,
  type MeteredAttempt,
  type PgLedgerStore,
  type SettlementResult,
  type StatementLine,
  type TransferInput,
} from '@anneal/billing';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { conflict, notFound } from '../../core/errors/app-error.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { ledgerError } from './billing.errors.js';
import { LEDGER_STORE } from './ledger.provider.js';
import { formatUsd, money } from './money.js';

export interface JobHoldRequest {
  orgId: string;
  jobId: string;
  /** The quote's upper bound (p90 cost) shown at submission. */
  quoteUpperMicros: bigint;
  /** The job's budget cap; null when the user set none. */
  budgetCapMicros: bigint | null;
  /** Seconds after which the hold lapses by itself (0 or absent: never). */
  timeoutSeconds?: number;
}

export interface JobHold {
  holdId: string;
  amountMicros: bigint;
  /** True when this hold had been placed before (a retried submission): nothing changed. */
  replay: boolean;
}

/** What metering needs to know about an attempt to price it. */
export interface LiveCostInput extends MeteredAttempt {
  priceMicrosPerGpuHour: bigint;
  gpuCount: number;
}

export interface SettleAttemptRequest {
  orgId: string;
  /** The provider org whose GPUs ran the attempt (its payable is credited). */
  providerOrgId: string;
  jobId: string;
  attemptId: string;
  /** The open hold covering this attempt; default the job's hold (`placeJobHold`). */
  holdId?: string;
  gpuModel: string;
  gpuCount: number;
  priceMicrosPerGpuHour: bigint;
  /** The attempt's metering: `endedAt` must be set. */
  attempt: MeteredAttempt;
  /** What remains of the job's budget cap for this attempt; null for no cap. */
  budgetCapMicros: bigint | null;
  /** The job goes on with another attempt: hold the released remainder again (returned as `nextHoldId`). */
  continueJob?: boolean;
}

export interface AttemptSettlement {
  billableSeconds: number;
  costMicros: bigint;
  chargedMicros: bigint;
  providerShareMicros: bigint;
  platformFeeMicros: bigint;
  releasedMicros: bigint;
  /** Metered cost beyond what the hold/cap covered (never charged). */
  uncoveredMicros: bigint;
  reheldMicros: bigint;
  /** The hold for the job's next attempt when `continueJob` was set and something remained. */
  nextHoldId: string | null;
  /** True when this attempt had been settled before with the same figures: nothing changed. */
  replay: boolean;
}

/** One attempt's settlement, or why it could not be made (the ledger's typed error). */
export type SettleOutcome = { ok: true; settlement: AttemptSettlement } | { ok: false; error: unknown };

export interface RefundRequest {
  orgId: string;
  /** This refund's own id (e.g. the dispute's resolution id): the transfer ids derive from it, so a retry is a no-op. */
  refundId: string;
  /** `refund` (goodwill, an operator's correction) or `dispute_resolution` (an admin's decision). */
  code: 'refund' | 'dispute_resolution';
  jobId?: string;
  attemptId?: string;
  disputeId?: string;
  /** The part taken back from the provider's unpaid earnings (its share of the charge). */
  fromProvider?: { providerOrgId: string; amountMicros: bigint };
  /** The part taken back from platform revenue (the fee, or the platform's goodwill). */
  fromPlatformMicros?: bigint;
}

const ENSURED_CACHE_LIMIT = 10_000;

/**
 * Money for jobs and customers: balances, holds, live cost, settlement, statements. Every amount is
 * integer micro-dollars; every write goes through the ledger (`@anneal/billing`), whose derived
 * transfer ids make each operation safe to retry.
 */
@Injectable()
export class BillingService {
  private platformReady: Promise<unknown> | null = null;
  private readonly ensuredOrgs = new Set<string>();
  private readonly ensuredProviders = new Set<string>();

  constructor(
    @Inject(LEDGER_STORE) private readonly ledger: PgLedgerStore,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The store, for the other billing services of this module. */
  get store(): PgLedgerStore {
    return this.ledger;
  }

  // ---------------------------------------------------------------------------------------------
  // Accounts (created lazily, idempotently)

  async ensurePlatformAccounts(): Promise<void> {
    this.platformReady ??= this.ledger.ensurePlatformAccounts(this.clock.now()).catch((error: unknown) => {
      this.platformReady = null;
      throw error;
    });
    await this.platformReady;
  }

  /** A customer org's available and held accounts (created on first use). */
  async ensureOrgAccounts(orgId: string): Promise<void> {
    if (this.ensuredOrgs.has(orgId)) return;
    await this.ensurePlatformAccounts();
    await this.ledger.ensureOrgAccounts(orgId, this.clock.now());
    remember(this.ensuredOrgs, orgId);
  }

  /** A provider org's payable and paid-out accounts (created on first use). */
  async ensureProviderAccounts(providerOrgId: string): Promise<void> {
    if (this.ensuredProviders.has(providerOrgId)) return;
    await this.ensurePlatformAccounts();
    await this.ledger.ensureProviderAccounts(providerOrgId, this.clock.now());
    remember(this.ensuredProviders, providerOrgId);
  }

  // ---------------------------------------------------------------------------------------------
  // For the jobs module

  /** An org's spendable credit and what its open holds reserve (zero for an org that never paid). */
  balance(orgId: string): Promise<{ availableMicros: bigint; heldMicros: bigint }> {
    return this.ledger.getOrgBalance(orgId);
  }

  /**
   * At submission: holds the lower of the quote's upper bound and the budget cap (available → held).
   * The hold id derives from the job, so a retried submission answers `replay: true`.
   * Throws 402 `insufficient_credits` (details: required, available) when the credit does not cover it.
   */
  async placeJobHold(request: JobHoldRequest): Promise<JobHold> {
    const cap = request.budgetCapMicros;
    if ((cap !== null && cap < request.quoteUpperMicros ? cap : request.quoteUpperMicros) <= 0n) {
      throw ledgerError('amount_must_be_positive', { jobId: request.jobId });
    }
    await this.ensureOrgAccounts(request.orgId);
    const plan = planJobHold({
      orgId: request.orgId,
      jobId: request.jobId,
      quoteUpperMicros: request.quoteUpperMicros,
      budgetCapMicros: request.budgetCapMicros,
      timeoutSeconds: request.timeoutSeconds,
    });
    const [outcome] = await this.ledger.createTransfers([plan.transfer], this.clock.now());
    const result = outcome!.result;
    if (result === 'ok' || result === 'exists') return { holdId: plan.holdId, amountMicros: plan.amountMicros, replay: result === 'exists' };
    if (result === 'insufficient_funds') {
      const { availableMicros } = await this.ledger.getOrgBalance(request.orgId);
      throw ledgerError(result, {
        requiredMicros: plan.amountMicros.toString(),
        required: formatUsd(plan.amountMicros),
        availableMicros: availableMicros.toString(),
        available: formatUsd(availableMicros),
        shortfallMicros: (plan.amountMicros - availableMicros).toString(),
      });
    }
    throw ledgerError(result, { jobId: request.jobId });
  }

  /**
   * Releases a job's open hold in full (e.g. canceled before it ran). Safe to repeat: a hold that
   * is gone, already voided or expired answers `released: false`; one already posted (the job was
   * charged) is a 409 `hold_already_settled`.
   */
  async releaseJobHold(jobId: string, holdId: string = jobHoldId(jobId)): Promise<{ released: boolean; releasedMicros: bigint }> {
    const [hold] = await this.ledger.lookupTransfers([holdId]);
    if (!hold || (hold.flags & TransferFlags.pending) === 0) return { released: false, releasedMicros: 0n };
    const [outcome] = await this.ledger.createTransfers(
      [{ id: deriveUuid('job-hold-release', holdId), pendingId: holdId, code: 'release', flags: TransferFlags.voidPending, links: { jobId } }],
      this.clock.now(),
    );
    const result = outcome!.result;
    if (result === 'ok' || result === 'exists') return { released: true, releasedMicros: hold.amount };
    if (result === 'pending_already_resolved' || result === 'pending_transfer_expired') {
      const status = await this.ledger.pendingStatus(holdId);
      if (status === 'posted') throw ledgerError('pending_already_resolved', { jobId });
      return { released: false, releasedMicros: 0n };
    }
    throw ledgerError(result, { jobId });
  }

  /** What an attempt has cost so far (or in total once ended): whole billable seconds × rate, rounded down. */
  liveCost(attempt: LiveCostInput, now: Date = this.clock.now()): { billableSeconds: number; costMicros: bigint } {
    return attemptCostMicros(attempt, { priceMicrosPerGpuHour: attempt.priceMicrosPerGpuHour, gpuCount: attempt.gpuCount }, now);
  }

  /**
   * Settles a finished attempt in one linked batch with its usage record: the hold is posted for the
   * charge (min of metered cost, hold and remaining budget cap; exactly the cap when the attempt
   * ended `budget_exhausted`), the provider's share (charge − fee) goes to its payable, the platform
   * fee (`PLATFORM_FEE_BPS`, rounded down) to revenue, the rest of the hold is released (or held
   * again for the next attempt with `continueJob`). Idempotent per attempt: a replay answers
   * `replay: true`; a replay with different figures is a 409 `ledger_conflict`.
   */
  async settleAttempt(request: SettleAttemptRequest): Promise<AttemptSettlement> {
    const [outcome] = await this.settleAttempts([request]);
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.settlement;
  }

  /**
   * `settleAttempt` for many attempts (of different jobs) at once: their holds read in one query
   * and their settlements written in one ledger transaction, each attempt's outcome exactly what
   * settling it alone would give (one attempt's failure is its own: the others are kept).
   */
  async settleAttempts(requests: readonly SettleAttemptRequest[]): Promise<SettleOutcome[]> {
    if (requests.some((request) => request.attempt.endedAt === null)) throw new TypeError('settleAttempt needs an attempt that has ended (endedAt)');
    const holdIds = requests.map((request) => request.holdId ?? jobHoldId(request.jobId));
    const holds = new Map((await this.ledger.lookupTransfers([...new Set(holdIds)])).map((transfer) => [transfer.id, transfer]));
    for (const providerOrgId of new Set(requests.map((request) => request.providerOrgId))) await this.ensureProviderAccounts(providerOrgId);
    const now = this.clock.now();
    const outcomes: SettleOutcome[] = [];
    const planned: { index: number; request: SettleAttemptRequest; plan: AttemptSettlementPlan }[] = [];
    requests.forEach((request, index) => {
      const hold = holds.get(holdIds[index]!);
      if (!hold || (hold.flags & TransferFlags.pending) === 0) {
        outcomes[index] = { ok: false, error: conflict('ledger_conflict', 'This job has no hold to settle the attempt against.', { jobId: request.jobId, attemptId: request.attemptId }) };
        return;
      }
      try {
        const plan = planAttemptSettlement({
          orgId: request.orgId,
          providerOrgId: request.providerOrgId,
          jobId: request.jobId,
          attemptId: request.attemptId,
          hold: { id: hold.id, amountMicros: hold.amount },
          gpuModel: request.gpuModel,
          gpuCount: request.gpuCount,
          priceMicrosPerGpuHour: request.priceMicrosPerGpuHour,
          attempt: request.attempt,
          budgetCapMicros: request.budgetCapMicros,
          platformFeeBps: this.config.PLATFORM_FEE_BPS,
          reholdId: request.continueJob ? deriveUuid('job-rehold', request.attemptId.toLowerCase()) : undefined,
          now,
        });
        planned.push({ index, request, plan });
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    });
    const settled = await this.ledger.settleAttempts(planned.map((p) => p.plan), now);
    planned.forEach(({ index, request, plan }, i) => {
      outcomes[index] = settlementOutcome(request, plan, settled[i]!);
    });
    return outcomes;
  }

  /**
   * Gives money back to a customer org with correcting transfers (the ledger is never edited):
   * provider payable → org available and/or platform revenue → org available, linked (both or
   * neither). Idempotent per `refundId` (`replay: true`). A provider whose unpaid earnings no longer
   * cover its part (already paid out) is a 409 `provider_balance_insufficient`: take it from the platform.
   */
  async refund(request: RefundRequest): Promise<{ refundedMicros: bigint; replay: boolean }> {
    const fromProvider = request.fromProvider && request.fromProvider.amountMicros > 0n ? request.fromProvider : null;
    const fromPlatform = request.fromPlatformMicros ?? 0n;
    if ((request.fromProvider && request.fromProvider.amountMicros < 0n) || fromPlatform < 0n || (!fromProvider && fromPlatform === 0n)) {
      throw ledgerError('amount_must_be_positive', { refundId: request.refundId });
    }
    await this.ensureOrgAccounts(request.orgId);
    if (fromProvider) await this.ensureProviderAccounts(fromProvider.providerOrgId);
    const links = { jobId: request.jobId ?? null, attemptId: request.attemptId ?? null, disputeId: request.disputeId ?? null };
    const credit = accountIdFor('org_available', request.orgId);
    const transfers: TransferInput[] = [];
    if (fromProvider) {
      transfers.push({
        id: deriveUuid('refund', request.refundId, 'provider'),
        debitAccountId: accountIdFor('provider_payable', fromProvider.providerOrgId),
        creditAccountId: credit,
        amount: fromProvider.amountMicros,
        code: request.code,
        links,
      });
    }
    if (fromPlatform > 0n) {
      transfers.push({ id: deriveUuid('refund', request.refundId, 'platform'), debitAccountId: accountIdFor('platform_revenue'), creditAccountId: credit, amount: fromPlatform, code: request.code, links });
    }
    if (transfers.length === 2) transfers[0]!.flags = TransferFlags.linked;
    const outcomes = await this.ledger.createTransfers(transfers, this.clock.now());
    const cause = outcomes.find((o) => !isTransferApplied(o.result) && o.result !== 'linked_event_failed') ?? outcomes.find((o) => !isTransferApplied(o.result));
    if (cause) {
      if (cause.result === 'insufficient_funds') {
        throw conflict('provider_balance_insufficient', "The provider's unpaid earnings no longer cover its part of this refund (it was paid out): take that part from the platform instead.", {
          refundId: request.refundId,
        });
      }
      throw ledgerError(cause.result, { refundId: request.refundId });
    }
    return { refundedMicros: (fromProvider?.amountMicros ?? 0n) + fromPlatform, replay: outcomes.every((o) => o.result === 'exists') };
  }

  /** Lapses holds whose timeout passed (cron). */
  expirePendingHolds(now: Date): Promise<string[]> {
    return this.ledger.expirePendingTransfers(now);
  }

  // ---------------------------------------------------------------------------------------------
  // For the HTTP API

  async balanceView(orgId: string) {
    const { availableMicros, heldMicros } = await this.balance(orgId);
    return { orgId, currency: 'usd', available: money(availableMicros), held: money(heldMicros), total: money(availableMicros + heldMicros) };
  }

  /** A platform admin looks at any org's balance: recorded in the audit log. */
  async adminBalanceView(admin: Principal, orgId: string, meta: RequestMeta) {
    const [org] = await this.dataSource.query('SELECT id FROM organizations WHERE id = $1', [orgId]);
    if (!org) throw notFound('Organization');
    await this.audit.record({ actor: admin, orgId, action: 'admin.billing_balance_viewed', target: { type: 'org', id: orgId }, meta });
    return this.balanceView(orgId);
  }

  /** An org's statement, newest first: every line traceable to a job attempt or a payment. */
  async statement(orgId: string, page: { cursor?: string; limit?: number }) {
    const result = await this.ledger.listOrgStatement(orgId, { cursor: page.cursor ?? null, limit: page.limit ?? 50 });
    return { lines: result.lines.map(statementLineView), nextCursor: result.nextCursor };
  }
}

/** What the ledger answered for one attempt's settlement, as the attempt's outcome. */
function settlementOutcome(request: SettleAttemptRequest, plan: AttemptSettlementPlan, settled: SettlementResult): SettleOutcome {
  if (settled.usage === 'exists_with_different_fields') {
    return { ok: false, error: ledgerError('exists_with_different_fields', { attemptId: request.attemptId }) };
  }
  const failed = settled.results.find((r) => !isTransferApplied(r.result));
  if (failed) {
    // A linked batch reports the real cause on one transfer and `linked_event_failed` on the rest.
    const cause = settled.results.find((r) => !isTransferApplied(r.result) && r.result !== 'linked_event_failed') ?? failed;
    return { ok: false, error: ledgerError(cause.result, { attemptId: request.attemptId }) };
  }
  const rehold = request.continueJob && plan.reheldMicros > 0n ? plan.transfers.at(-1)!.id : null;
  return {
    ok: true,
    settlement: {
      billableSeconds: plan.billableSeconds,
      costMicros: plan.costMicros,
      chargedMicros: plan.chargedMicros,
      providerShareMicros: plan.providerShareMicros,
      platformFeeMicros: plan.platformFeeMicros,
      releasedMicros: plan.releasedMicros,
      uncoveredMicros: plan.uncoveredMicros,
      reheldMicros: plan.reheldMicros,
      nextHoldId: rehold,
      replay: settled.usage === 'exists',
    },
  };
}

function remember(set: Set<string>, id: string): void {
  if (set.size >= ENSURED_CACHE_LIMIT) set.clear();
  set.add(id);
}

const DESCRIPTIONS: Record<string, string> = {
  top_up: 'Top-up',
  hold: 'Hold for a job',
  charge: 'Charge for a job attempt',
  release: 'Hold released',
  refund: 'Refund',
  dispute_resolution: 'Dispute resolution',
  correction: 'Correction',
  provider_share: 'Earnings for a job attempt',
  platform_fee: 'Platform fee',
  payout: 'Payout',
  payout_settled: 'Payout settled',
  transfer: 'Transfer',
};

/** One statement line as JSON: signed amount (credits positive), money strings, what it traces to. */
export function statementLineView(line: StatementLine) {
  // A released hold gives the money back to the org, although the void names the hold's own accounts.
  const signed = line.direction === 'credit' || line.code === 'release' ? line.amountMicros : -line.amountMicros;
  const usage = line.usage
    ? {
        gpuModel: line.usage.gpuModel,
        gpuCount: line.usage.gpuCount,
        billableSeconds: line.usage.billableSeconds,
        rate: money(line.usage.priceMicrosPerGpuHour),
        cost: money(line.usage.costMicros),
        charged: money(line.usage.chargedMicros),
      }
    : null;
  let description = DESCRIPTIONS[line.code] ?? line.code;
  if (line.usage && (line.code === 'charge' || line.code === 'provider_share')) {
    description = `${description}: ${line.usage.gpuCount}× ${line.usage.gpuModel} for ${line.usage.billableSeconds} s at ${formatUsd(line.usage.priceMicrosPerGpuHour)}/GPU-hour`;
  } else if (line.code === 'top_up' && line.links.paymentId) {
    description = `${description} (payment ${line.links.paymentId})`;
  }
  return {
    id: line.transferId,
    cursor: line.cursor,
    timestamp: line.timestamp.toISOString(),
    type: line.code,
    description,
    direction: line.direction,
    amount: money(line.amountMicros),
    signedAmount: money(signed),
    holdStatus: line.pendingStatus,
    resolvesHoldId: line.resolvesPendingId,
    jobId: line.links.jobId,
    attemptId: line.links.attemptId,
    paymentId: line.links.paymentId,
    disputeId: line.links.disputeId,
    payoutId: line.links.payoutId,
    usage,
  };
}
