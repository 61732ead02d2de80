import { TransferFlags, accountIdFor, deriveUuid, isTransferApplied } from '@anneal/billing';
import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { Brackets, DataSource, IsNull, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { AppError, badRequest, conflict, forbidden, notFound, unprocessable } from '../../core/errors/app-error.js';
import { LOGGER } from '../../core/logging/logger.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { BillingService } from '../billing/billing.service.js';
import { formatUsd, money } from '../billing/money.js';
import { Attempt } from '../jobs/entities/attempt.entity.js';
import { Job } from '../jobs/entities/job.entity.js';
import { Node } from '../nodes/entities/node.entity.js';
import { ReliabilityService } from '../nodes/reliability.service.js';
import { EmailOutboxService } from '../notifications/email-outbox.service.js';
import { DisputeEvidenceService } from './dispute-evidence.service.js';
import { suggestDisputeOutcome } from './dispute-suggestion.js';
import { emailOrgAdmins } from './org-contacts.js';
import { DISPUTE_REASONS, Dispute, type DisputeConsequences, type DisputeReason, type DisputeResolution, type DisputeStatus } from './entities/dispute.entity.js';
import { ProviderReceivable } from './entities/provider-receivable.entity.js';

export interface OpenDisputeInput {
  jobId: string;
  attemptId?: string;
  reason: DisputeReason;
  description: string;
}

export interface ResolveDisputeInput {
  resolution: DisputeResolution;
  /** Partial refunds only: the amount, at most what was charged. */
  refundMicros?: bigint;
  note: string;
  /** 0..1: the node's reliability is multiplied by (1 − penalty) from now on. */
  reliabilityPenalty?: number;
  /** Quarantine the node that ran the attempt (no new jobs until an admin releases it). */
  quarantineNode?: boolean;
}

export interface DisputeListFilter {
  status?: string;
  reason?: string;
  limit?: number;
  before?: string;
}

const RECEIVABLES_LOCK_KEY = 7_953_600_001;
const DAY_MS = 86_400_000;

/**
 * Disputes over attempts: a customer opens one (its evidence and a suggested outcome frozen at
 * that moment), the provider answers once, an admin resolves it. A refund is a pair of correcting
 * ledger transfers (never an edit); what the provider owes but no longer holds (paid out) is a
 * receivable the platform advances and recovers from the provider's next earnings.
 */
@Injectable()
export class DisputesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly evidence: DisputeEvidenceService,
    private readonly billing: BillingService,
    private readonly audit: AuditService,
    private readonly emails: EmailOutboxService,
    private readonly reliability: ReliabilityService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // ---------------------------------------------------------------------------------------------
  // Customer and provider

  async open(principal: Principal, input: OpenDisputeInput, meta: RequestMeta) {
    if (!DISPUTE_REASONS.includes(input.reason)) throw badRequest('validation_failed', `reason must be one of ${DISPUTE_REASONS.join(', ')}.`);
    const now = this.clock.now();
    const manager = this.dataSource.manager;
    const job = await manager.findOneBy(Job, { id: input.jobId, orgId: principal.orgId });
    if (!job) throw notFound('Job');
    const attempt = input.attemptId ? await manager.findOneBy(Attempt, { id: input.attemptId, jobId: job.id }) : await this.disputableAttempt(manager, job.id);
    if (!attempt) throw input.attemptId ? notFound('Attempt') : unprocessable('nothing_to_dispute', 'This job has no ended attempt to dispute yet.');
    if (attempt.status !== 'ended' || !attempt.endedAt) throw conflict('attempt_not_ended', 'This attempt is still running: you can dispute it once it has ended.');
    const closesAt = new Date(attempt.endedAt.getTime() + this.config.DISPUTE_WINDOW_DAYS * DAY_MS);
    if (now > closesAt) {
      throw unprocessable('dispute_window_closed', `Disputes can be opened up to ${this.config.DISPUTE_WINDOW_DAYS} days after an attempt ended; this one ended on ${attempt.endedAt.toISOString().slice(0, 10)}.`, {
        endedAt: attempt.endedAt.toISOString(),
        closedAt: closesAt.toISOString(),
      });
    }
    const existing = await manager.findOneBy(Dispute, { attemptId: attempt.id });
    if (existing) throw conflict('dispute_exists', 'A dispute is already open for this attempt.', { disputeId: existing.id });

    const evidence = await this.evidence.assemble(manager, job, attempt);
    const chargedMicros = BigInt(evidence.metering.chargedMicros);
    const suggestion = suggestDisputeOutcome(
      {
        chargedMicros,
        offeredGpu: evidence.gpu.offeredModel,
        reportedGpu: evidence.gpu.reportedModelId ?? evidence.gpu.reportedName,
        gpuMatches: evidence.gpu.matches,
        offlineBeforeEndSeconds: evidence.heartbeats.offlineBeforeEndSeconds,
        stepTime:
          evidence.stepTime.measured && evidence.stepTime.benchmark
            ? { measuredMeanMs: evidence.stepTime.measured.meanMs, benchmarkP50Ms: evidence.stepTime.benchmark.p50Ms, benchmarkP90Ms: evidence.stepTime.benchmark.p90Ms }
            : null,
      },
      { offlineThresholdSeconds: this.config.DISPUTE_OFFLINE_THRESHOLD_SECONDS, slowFactor: this.config.DISPUTE_SLOW_FACTOR },
    );
    const dispute: Dispute = {
      id: this.newId(),
      jobId: job.id,
      attemptId: attempt.id,
      customerOrgId: job.orgId,
      providerOrgId: attempt.providerOrgId,
      providerKind: attempt.providerKind,
      nodeId: attempt.nodeId,
      openedBy: principal.userId,
      reason: input.reason,
      description: input.description,
      status: 'open',
      chargedMicros,
      evidence,
      suggestion: { outcome: suggestion.outcome, refundMicros: suggestion.refundMicros.toString(), reason: suggestion.reason, findings: suggestion.findings },
      providerStatement: null,
      providerRespondedBy: null,
      providerRespondedAt: null,
      resolution: null,
      refundMicros: null,
      refundFromProviderMicros: null,
      refundFromPlatformMicros: null,
      receivableMicros: null,
      resolutionNote: null,
      consequences: null,
      resolvedBy: null,
      resolvedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.dataSource.transaction(async (tx) => {
        await tx.insert(Dispute, dispute as never);
        await this.audit.record({ actor: principal, action: 'dispute.opened', target: { type: 'dispute', id: dispute.id }, meta, details: { jobId: job.id, attemptId: attempt.id, reason: input.reason, suggestion: suggestion.outcome } }, tx);
        if (dispute.providerOrgId) {
          await this.audit.record(
            { actor: 'system', orgId: dispute.providerOrgId, action: 'dispute.provider_notified', target: { type: 'dispute', id: dispute.id }, details: { attemptId: attempt.id, nodeId: attempt.nodeId } },
            tx,
          );
          await this.notifyOrg(tx, dispute.providerOrgId, `A customer disputed an attempt on your node`, [
            `A customer opened a dispute (${input.reason.replace(/_/g, ' ')}) on attempt ${attempt.id}${attempt.nodeId ? ` that ran on node ${attempt.nodeId}` : ''}.`,
            `You can answer once with a statement: POST /v1/disputes/${dispute.id}/respond. An administrator decides from the evidence the system collected.`,
          ]);
        }
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('dispute_exists', 'A dispute is already open for this attempt.');
      throw error;
    }
    return this.view(dispute, 'customer');
  }

  /** Disputes where the acting org is the customer or the provider, newest first. */
  async list(principal: Principal, filter: DisputeListFilter) {
    const rows = await this.query(filter)
      .andWhere(new Brackets((w) => w.where('d.customer_org_id = :org', { org: principal.orgId }).orWhere('d.provider_org_id = :org', { org: principal.orgId })))
      .getMany();
    return this.page(rows, filter, (d) => this.summary(d, d.customerOrgId === principal.orgId ? 'customer' : 'provider'));
  }

  async get(principal: Principal, id: string) {
    const dispute = await this.dataSource.manager.findOneBy(Dispute, { id });
    if (!dispute) throw notFound('Dispute');
    if (dispute.customerOrgId === principal.orgId) return this.view(dispute, 'customer');
    if (dispute.providerOrgId === principal.orgId) return this.view(dispute, 'provider');
    throw notFound('Dispute');
  }

  /** The provider's one statement. */
  async respond(principal: Principal, id: string, statement: string, meta: RequestMeta) {
    const now = this.clock.now();
    const dispute = await this.dataSource.transaction(async (tx) => {
      const row = await tx.findOne(Dispute, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!row || (row.customerOrgId !== principal.orgId && row.providerOrgId !== principal.orgId)) throw notFound('Dispute');
      if (row.providerOrgId !== principal.orgId) throw forbidden('Only the provider whose machine ran the attempt can answer a dispute.', 'not_the_provider');
      if (row.status === 'resolved') throw conflict('dispute_resolved', 'This dispute has been resolved already.');
      if (row.providerStatement !== null) throw conflict('dispute_already_answered', 'You have answered this dispute already; a provider answers once.');
      await tx.update(Dispute, { id }, { providerStatement: statement, providerRespondedBy: principal.userId, providerRespondedAt: now, status: 'answered', updatedAt: now });
      await this.audit.record({ actor: principal, action: 'dispute.provider_responded', target: { type: 'dispute', id }, meta }, tx);
      await this.notifyOrg(tx, row.customerOrgId, 'The provider answered your dispute', [
        `The provider answered your dispute ${id}:`,
        '',
        statement,
        '',
        'An administrator will decide from the evidence and both statements.',
      ]);
      return { ...row, providerStatement: statement, providerRespondedBy: principal.userId, providerRespondedAt: now, status: 'answered' as DisputeStatus, updatedAt: now };
    });
    return this.view(dispute, 'provider');
  }

  // ---------------------------------------------------------------------------------------------
  // Admin

  async adminList(filter: DisputeListFilter) {
    if (filter.status && !['open', 'answered', 'resolved', 'unresolved'].includes(filter.status)) throw badRequest('validation_failed', 'status must be open, answered, resolved or unresolved.');
    if (filter.reason && !DISPUTE_REASONS.includes(filter.reason as DisputeReason)) throw badRequest('validation_failed', `reason must be one of ${DISPUTE_REASONS.join(', ')}.`);
    const rows = await this.query(filter).getMany();
    return this.page(rows, filter, (d) => this.summary(d, 'admin'));
  }

  async adminGet(id: string) {
    const dispute = await this.dataSource.manager.findOneBy(Dispute, { id });
    if (!dispute) throw notFound('Dispute');
    return this.view(dispute, 'admin');
  }

  /**
   * Decides a dispute. A refund is split like the charge was (provider share : platform fee); the
   * provider's part comes from its unpaid earnings, and whatever of it was already paid out is
   * advanced by the platform and recorded as a receivable. One resolution per dispute (409 after).
   */
  async resolve(admin: Principal, id: string, input: ResolveDisputeInput, meta: RequestMeta) {
    const now = this.clock.now();
    if (input.reliabilityPenalty !== undefined && !(input.reliabilityPenalty >= 0 && input.reliabilityPenalty <= 1)) {
      throw badRequest('validation_failed', 'reliabilityPenalty must be between 0 and 1.');
    }
    const resolved = await this.dataSource.transaction(async (tx) => {
      const dispute = await tx.findOne(Dispute, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!dispute) throw notFound('Dispute');
      if (dispute.status === 'resolved') throw conflict('dispute_already_resolved', 'This dispute has been resolved already; a resolution cannot be changed (make a separate correction instead).');
      const refund = this.refundAmount(dispute, input);

      let fromProvider = 0n;
      let fromPlatform = 0n;
      let receivable = 0n;
      const providerLedgerOrg = dispute.evidence.metering.providerLedgerOrgId;
      if (refund > 0n) {
        const share = BigInt(dispute.evidence.metering.providerShareMicros);
        const providerPart = providerLedgerOrg && dispute.chargedMicros > 0n ? (refund * share) / dispute.chargedMicros : 0n;
        const platformPart = refund - providerPart;
        const earlier = await this.earlierRefund(dispute.id);
        if (earlier) {
          // A previous try applied the transfers but did not commit the resolution: reuse its split.
          fromProvider = earlier.fromProviderMicros;
          receivable = providerPart > fromProvider ? providerPart - fromProvider : 0n;
        } else if (providerPart > 0n && providerLedgerOrg) {
          const { payableMicros } = await this.billing.store.getProviderBalance(providerLedgerOrg);
          fromProvider = payableMicros < providerPart ? (payableMicros > 0n ? payableMicros : 0n) : providerPart;
          receivable = providerPart - fromProvider;
        }
        fromPlatform = platformPart + receivable;
        const request = {
          orgId: dispute.customerOrgId,
          refundId: dispute.id,
          code: 'dispute_resolution' as const,
          jobId: dispute.jobId,
          attemptId: dispute.attemptId,
          disputeId: dispute.id,
          fromProvider: fromProvider > 0n && providerLedgerOrg ? { providerOrgId: providerLedgerOrg, amountMicros: fromProvider } : undefined,
          fromPlatformMicros: fromPlatform,
        };
        try {
          await this.billing.refund(request);
        } catch (error) {
          // Paid out between the balance read and the transfer: the platform advances the provider's part too.
          if (!(error instanceof AppError && error.code === 'provider_balance_insufficient')) throw error;
          receivable += fromProvider;
          fromPlatform += fromProvider;
          fromProvider = 0n;
          await this.billing.refund({ ...request, fromProvider: undefined, fromPlatformMicros: fromPlatform });
        }
        await this.audit.record(
          {
            actor: admin,
            orgId: dispute.customerOrgId,
            action: 'dispute.refunded',
            target: { type: 'dispute', id },
            meta,
            details: { refundMicros: refund.toString(), fromProviderMicros: fromProvider.toString(), fromPlatformMicros: fromPlatform.toString(), receivableMicros: receivable.toString() },
          },
          tx,
        );
        if (receivable > 0n && providerLedgerOrg) {
          await tx.insert(ProviderReceivable, { id: this.newId(), disputeId: id, providerOrgId: providerLedgerOrg, amountMicros: receivable, recoveredMicros: 0n, createdAt: now, settledAt: null } as never);
          await this.audit.record({ actor: admin, orgId: providerLedgerOrg, action: 'dispute.receivable_recorded', target: { type: 'dispute', id }, meta, details: { amountMicros: receivable.toString() } }, tx);
        }
      }

      const consequences: DisputeConsequences = {};
      if (dispute.nodeId && input.reliabilityPenalty !== undefined && input.reliabilityPenalty > 0) {
        await tx.query('UPDATE nodes SET reliability_penalty = GREATEST(reliability_penalty, $2) WHERE id = $1', [dispute.nodeId, input.reliabilityPenalty]);
        consequences.reliabilityPenalty = input.reliabilityPenalty;
        await this.audit.record({ actor: admin, orgId: dispute.providerOrgId, action: 'node.reliability_penalized', target: { type: 'node', id: dispute.nodeId }, meta, details: { disputeId: id, penalty: input.reliabilityPenalty } }, tx);
      }
      if (dispute.nodeId && input.quarantineNode) {
        await tx.update(Node, { id: dispute.nodeId }, { quarantinedAt: now, quarantineReason: `Dispute ${id}: ${input.note}`.slice(0, 1000) });
        consequences.quarantinedNodeId = dispute.nodeId;
        await this.audit.record({ actor: admin, orgId: dispute.providerOrgId, action: 'node.quarantined', target: { type: 'node', id: dispute.nodeId }, meta, details: { disputeId: id } }, tx);
      }

      const changes = {
        status: 'resolved' as DisputeStatus,
        resolution: input.resolution,
        refundMicros: refund,
        refundFromProviderMicros: fromProvider,
        refundFromPlatformMicros: fromPlatform,
        receivableMicros: receivable,
        resolutionNote: input.note,
        consequences,
        resolvedBy: admin.userId,
        resolvedAt: now,
        updatedAt: now,
      };
      await tx.update(Dispute, { id }, changes as never);
      await this.audit.record({ actor: admin, orgId: dispute.customerOrgId, action: 'dispute.resolved', target: { type: 'dispute', id }, meta, details: { resolution: input.resolution, refundMicros: refund.toString(), note: input.note, consequences } }, tx);
      const outcome = input.resolution === 'rejected' ? 'rejected: no refund' : `${input.resolution.replace('_', ' ')} of ${formatUsd(refund)}`;
      await this.notifyOrg(tx, dispute.customerOrgId, 'Your dispute was resolved', [`Your dispute ${id} was resolved (${outcome}).`, '', `Note from the administrator: ${input.note}`]);
      if (dispute.providerOrgId) {
        const extra = [
          fromProvider > 0n ? `${formatUsd(fromProvider)} was taken from your unpaid earnings.` : '',
          receivable > 0n ? `${formatUsd(receivable)} was advanced by the platform and will be recovered from your next earnings.` : '',
          consequences.quarantinedNodeId ? `Node ${consequences.quarantinedNodeId} is quarantined: it gets no new jobs until an administrator releases it.` : '',
          consequences.reliabilityPenalty ? `A reliability penalty of ${Math.round(consequences.reliabilityPenalty * 100)}% applies to the node.` : '',
        ].filter(Boolean);
        await this.notifyOrg(tx, dispute.providerOrgId, 'A dispute on your node was resolved', [`Dispute ${id} was resolved (${outcome}).`, ...extra, '', `Note from the administrator: ${input.note}`]);
      }
      return { ...dispute, ...changes };
    });
    if (resolved.consequences?.reliabilityPenalty) this.reliability.invalidate();
    return this.view(resolved, 'admin');
  }

  /**
   * Recovers open receivables from the providers' payable balances: a correcting transfer provider
   * payable → platform revenue per recovery (`dispute_resolution`, linked to the dispute), its id
   * derived from the receivable and what was recovered before, so a retry never recovers twice.
   */
  async recoverReceivables(): Promise<number> {
    let recovered = 0;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [lock] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [RECEIVABLES_LOCK_KEY]);
      if (!lock?.locked) return 0;
      try {
        const open = await runner.manager.find(ProviderReceivable, { where: { settledAt: IsNull() }, order: { createdAt: 'ASC' }, take: 200 });
        for (const receivable of open) {
          const outstanding = receivable.amountMicros - receivable.recoveredMicros;
          const { payableMicros } = await this.billing.store.getProviderBalance(receivable.providerOrgId);
          const transferId = deriveUuid('dispute-receivable', receivable.id, receivable.recoveredMicros.toString());
          const [already] = await this.billing.store.lookupTransfers([transferId]);
          const amount = already ? already.amount : payableMicros < outstanding ? payableMicros : outstanding;
          if (amount <= 0n) continue;
          if (!already) {
            const [outcome] = await this.billing.store.createTransfers(
              [
                {
                  id: transferId,
                  debitAccountId: accountIdFor('provider_payable', receivable.providerOrgId),
                  creditAccountId: accountIdFor('platform_revenue'),
                  amount,
                  code: 'dispute_resolution',
                  flags: TransferFlags.none,
                  links: { disputeId: receivable.disputeId },
                },
              ],
              this.clock.now(),
            );
            if (!outcome || !isTransferApplied(outcome.result)) {
              this.logger.warn({ receivableId: receivable.id, result: outcome?.result }, 'recovering a provider receivable failed; will retry');
              continue;
            }
          }
          const total = receivable.recoveredMicros + amount;
          await runner.manager.transaction(async (tx) => {
            await tx.update(ProviderReceivable, { id: receivable.id }, { recoveredMicros: total, settledAt: total >= receivable.amountMicros ? this.clock.now() : null } as never);
            await this.audit.record(
              { actor: 'system', orgId: receivable.providerOrgId, action: 'dispute.receivable_recovered', target: { type: 'dispute', id: receivable.disputeId }, details: { amountMicros: amount.toString(), recoveredMicros: total.toString() } },
              tx,
            );
          });
          recovered += 1;
        }
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [RECEIVABLES_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
    return recovered;
  }

  @Interval('dispute-receivables', 600_000)
  async recoverReceivablesTick(): Promise<void> {
    if (!this.config.SCHEDULER_ENABLED) return;
    await this.recoverReceivables().catch((error: unknown) => this.logger.error({ err: error }, 'recovering provider receivables failed'));
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * The refund transfers of an earlier try at resolving this dispute, if any reached the ledger
   * (`BillingService.refund` derives their ids from the refund id, here the dispute id).
   */
  private async earlierRefund(disputeId: string): Promise<{ fromProviderMicros: bigint } | null> {
    const transfers = await this.billing.store.lookupTransfers([deriveUuid('refund', disputeId, 'provider'), deriveUuid('refund', disputeId, 'platform')]);
    if (transfers.length === 0) return null;
    const provider = transfers.find((tr) => tr.id === deriveUuid('refund', disputeId, 'provider'));
    return { fromProviderMicros: provider?.amount ?? 0n };
  }

  private refundAmount(dispute: Dispute, input: ResolveDisputeInput): bigint {
    if (input.resolution === 'rejected') {
      if (input.refundMicros !== undefined && input.refundMicros !== 0n) throw badRequest('validation_failed', 'A rejection refunds nothing: leave out the amount.');
      return 0n;
    }
    if (input.resolution === 'full_refund') {
      if (dispute.chargedMicros === 0n) throw unprocessable('nothing_to_refund', 'Nothing was charged for this attempt: there is nothing to refund; reject the dispute instead.');
      return dispute.chargedMicros;
    }
    if (input.refundMicros === undefined || input.refundMicros <= 0n) throw badRequest('validation_failed', 'A partial refund needs an amount greater than zero (refundMicros or refundUsd).');
    if (input.refundMicros > dispute.chargedMicros) {
      throw unprocessable('refund_exceeds_charge', `A refund cannot exceed what was charged for the attempt (${formatUsd(dispute.chargedMicros)}).`, { chargedMicros: dispute.chargedMicros.toString() });
    }
    return input.refundMicros;
  }

  private async disputableAttempt(manager: EntityManager, jobId: string): Promise<Attempt | null> {
    return manager
      .createQueryBuilder(Attempt, 'a')
      .where('a.job_id = :jobId', { jobId })
      .orderBy('a.cost_micros', 'DESC')
      .addOrderBy('a.number', 'DESC')
      .andWhere("a.status = 'ended'")
      .getOne();
  }

  private query(filter: DisputeListFilter) {
    const q = this.dataSource.manager.createQueryBuilder(Dispute, 'd').orderBy('d.created_at', 'DESC').addOrderBy('d.id', 'DESC').limit(clampLimit(filter.limit) + 1);
    if (filter.status === 'unresolved') q.andWhere("d.status <> 'resolved'");
    else if (filter.status) q.andWhere('d.status = :status', { status: filter.status });
    if (filter.reason) q.andWhere('d.reason = :reason', { reason: filter.reason });
    if (filter.before) {
      if (!/^[0-9a-f-]{36}$/i.test(filter.before)) throw badRequest('validation_failed', 'before must be a dispute id from the previous page.');
      q.andWhere('d.id < :before', { before: filter.before });
    }
    return q;
  }

  private page<T>(rows: Dispute[], filter: DisputeListFilter, map: (d: Dispute) => T) {
    const limit = clampLimit(filter.limit);
    const items = rows.slice(0, limit);
    return { items: items.map(map), nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  private summary(d: Dispute, as: 'customer' | 'provider' | 'admin') {
    return {
      id: d.id,
      role: as,
      jobId: d.jobId,
      attemptId: d.attemptId,
      nodeId: d.nodeId,
      providerKind: d.providerKind,
      reason: d.reason,
      status: d.status,
      charged: money(d.chargedMicros),
      resolution: d.resolution,
      refund: d.refundMicros === null ? null : money(d.refundMicros),
      // Neither party learns the other's org id; admins see both.
      ...(as === 'admin' ? { customerOrgId: d.customerOrgId, providerOrgId: d.providerOrgId, suggestion: { outcome: d.suggestion.outcome, reason: d.suggestion.reason } } : {}),
      createdAt: d.createdAt.toISOString(),
      resolvedAt: d.resolvedAt?.toISOString() ?? null,
    };
  }

  /** One dispute as its party sees it: a provider does not get the customer's training logs. */
  private view(d: Dispute, as: 'customer' | 'provider' | 'admin') {
    const evidence = as === 'provider' ? { ...d.evidence, logs: [], events: d.evidence.events.map((e) => ({ ...e, message: '' })) } : d.evidence;
    return {
      ...this.summary(d, as),
      description: d.description,
      providerStatement: d.providerStatement,
      providerRespondedAt: d.providerRespondedAt?.toISOString() ?? null,
      suggestion: { outcome: d.suggestion.outcome, refund: money(BigInt(d.suggestion.refundMicros)), reason: d.suggestion.reason, findings: d.suggestion.findings },
      evidence,
      resolutionNote: d.resolutionNote,
      ...(as === 'customer'
        ? {}
        : {
            refundFromProvider: d.refundFromProviderMicros === null ? null : money(d.refundFromProviderMicros),
            receivable: d.receivableMicros === null ? null : money(d.receivableMicros),
          }),
      ...(as === 'admin'
        ? { refundFromPlatform: d.refundFromPlatformMicros === null ? null : money(d.refundFromPlatformMicros), consequences: d.consequences, resolvedBy: d.resolvedBy, openedBy: d.openedBy }
        : {}),
      updatedAt: d.updatedAt.toISOString(),
    };
  }

  private notifyOrg(tx: EntityManager, orgId: string, subject: string, lines: string[]): Promise<void> {
    return emailOrgAdmins(tx, this.emails, orgId, subject, lines.join('\n'));
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return 50;
  return Math.min(200, Math.max(1, Math.floor(limit)));
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === '23505';
}
