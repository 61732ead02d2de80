import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { lookupGpu } from '@anneal/benchmarks';
import { matchesOfferQuery, type Offer, type ProviderKind } from '@anneal/providers';
import { DataSource, In, LessThan, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { AppError, badRequest, conflict, notFound, unprocessable } from '../../core/errors/app-error.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { OutboxService } from '../../core/outbox/outbox.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { usdToMicros } from '../../core/money/usd.js';
import { returningRows } from '../../core/database/returning-rows.js';
import type { SubmitJobDto } from './dto/submit-job.dto.js';
import { Attempt } from './entities/attempt.entity.js';
import { JobEvent } from './entities/job-event.entity.js';
import { JobLog } from './entities/job-log.entity.js';
import { JobMetric } from './entities/job-metric.entity.js';
import { Job, type JobRecipe, type SubmittedQuote } from './entities/job.entity.js';
import { canTransition, isTerminal, type JobStatus } from './job-state.js';
import { newJob } from './new-job.js';
import { QueueSignal } from './queue-signal.js';
import {
  BILLING_PORT,
  DATASET_PORT,
  ESTIMATE_PORT,
  MODERATION_PORT,
  OFFER_PORT,
  STORAGE_PORT,
  type BillingPort,
  type DatasetPort,
  type EstimateInput,
  type EstimatePort,
  type ModerationPort,
  type OfferPort,
  type QuoteRow,
  type StoragePort,
} from './jobs.ports.js';

const ALL_PROVIDERS: ProviderKind[] = ['community', 'gcp', 'runpod'];

/** "RTX 4090", "NVIDIA GeForce RTX 4090" or "rtx-4090" → the catalog id offers carry. */
function catalogGpuId(name: string): string {
  const found = lookupGpu(name);
  return found.kind === 'known' ? found.gpu.id : name;
}

export function jobEventsSubject(prefix: string, jobId: string): string {
  return `${prefix ? `${prefix}.` : ''}anneal.events.jobs.${jobId}`;
}

/** Job submission, cancellation and everything a customer reads about a job. */
@Injectable()
export class JobsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly queue: QueueSignal,
    private readonly nats: NatsService,
    @Inject(DATASET_PORT) private readonly datasets: DatasetPort,
    @Inject(MODERATION_PORT) private readonly moderation: ModerationPort,
    @Inject(ESTIMATE_PORT) private readonly estimates: EstimatePort,
    @Inject(OFFER_PORT) private readonly offers: OfferPort,
    @Inject(BILLING_PORT) private readonly billing: BillingPort,
    @Inject(STORAGE_PORT) private readonly storage: StoragePort,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  async submit(principal: Principal, dto: SubmitJobDto, idempotencyKey: string | undefined, meta: RequestMeta): Promise<{ job: ReturnType<JobsService['view']>; created: boolean }> {
    const requestHash = createHash('sha256').update(JSON.stringify(dto)).digest('hex');
    if (idempotencyKey) {
      const existing = await this.dataSource.manager.findOneBy(Job, { orgId: principal.orgId, idempotencyKey });
      if (existing) {
        if (existing.requestHash !== requestHash) {
          throw conflict('idempotency_mismatch', 'This Idempotency-Key was already used for a different job submission. Use a new key for a new job.');
        }
        return { job: this.view(existing, []), created: false };
      }
    }
    const now = this.clock.now();
    const dataset = await this.datasets.requireTrainable(principal.orgId, dto.datasetId);
    const recipe: JobRecipe = {
      baseModelId: dto.recipe.baseModelId,
      method: dto.recipe.method,
      precision: dto.recipe.precision ?? 'bf16',
      quantization: dto.recipe.quantization ?? (dto.recipe.method === 'qlora' ? 'nf4' : 'none'),
      sequenceLength: dto.recipe.sequenceLength,
      imageResolution: dto.recipe.imageResolution ? { width: dto.recipe.imageResolution.width, height: dto.recipe.imageResolution.height } : undefined,
      batchSize: dto.recipe.batchSize,
      gradientAccumulation: dto.recipe.gradientAccumulation ?? 1,
      steps: dto.recipe.steps,
      epochs: dto.recipe.epochs,
      learningRate: dto.recipe.learningRate,
      loraRank: dto.recipe.loraRank,
      validationPrompts: dto.recipe.validationPrompts ?? [],
      validationInterval: dto.recipe.validationInterval,
      runner: dto.recipe.runner,
      image: dto.recipe.image,
    };
    if (!recipe.steps && !recipe.epochs) throw new AppError(400, 'validation_failed', 'Give the number of steps, or epochs to derive them from the dataset size.', { fields: [{ field: 'recipe.steps', message: 'steps or epochs is required' }] });
    const estimateInput = this.estimateInput(recipe, dataset);
    const steps = this.estimates.resolveSteps(estimateInput);
    if (dto.resources.gpuModel) this.estimates.assertFits(estimateInput, dto.resources.gpuModel, dto.resources.gpuCount);
    const maxPrice = dto.maxPricePerGpuHour ? usdToMicros(dto.maxPricePerGpuHour) : null;
    const budgetCap = dto.budgetCap ? usdToMicros(dto.budgetCap) : null;
    if (budgetCap !== null && budgetCap <= 0n) throw new AppError(400, 'validation_failed', 'The budget cap must be more than zero.', { fields: [{ field: 'budgetCap', message: 'must be more than 0' }] });
    const allowlist = dto.providers && dto.providers.length > 0 ? [...new Set(dto.providers)] : ALL_PROVIDERS;

    const jobId = this.newId();
    const name = dto.name?.trim() || `${recipe.baseModelId.split('/').pop()} ${recipe.method}`;
    const verdict = await this.moderation.checkJob({ orgId: principal.orgId, jobId, baseModelId: recipe.baseModelId, datasetId: dataset.id, name, configuration: recipe });
    if (!verdict.passed) {
      throw unprocessable('moderation_rejected', `This job cannot run: ${verdict.reasons.map((r) => r.message).join(' ')}`, { reasons: verdict.reasons });
    }

    const { quoteId, rows } = await this.quoteRows(principal.orgId, dto.quoteId, estimateInput, { resources: dto.resources, allowlist, maxPrice }, now);
    const cheapest = rows[0];
    if (!cheapest && budgetCap === null) {
      throw unprocessable('no_matching_offer', 'No offer matches this job right now, so there is no price to hold. Widen the resources or price cap, or set a budget cap to queue the job until an offer appears.');
    }
    const upper = rows.reduce<bigint>((max, row) => (row.costMicros.p90 > max ? row.costMicros.p90 : max), 0n);
    const holdMicros = budgetCap !== null && (rows.length === 0 || budgetCap < upper) ? budgetCap : upper;
    const submittedQuote: SubmittedQuote | null = cheapest
      ? {
          quoteId,
          offerId: cheapest.offer.offerId,
          runtimeSeconds: cheapest.runtimeSeconds,
          costMicros: { p10: cheapest.costMicros.p10.toString(), p50: cheapest.costMicros.p50.toString(), p90: cheapest.costMicros.p90.toString() },
          basis: cheapest.basis,
          summary: cheapest.summary,
        }
      : null;

    const hold = await this.billing.placeJobHold({ orgId: principal.orgId, jobId, amountMicros: holdMicros });
    const job = newJob(
      {
        id: jobId,
        orgId: principal.orgId,
        createdBy: principal.userId,
        name,
        recipe,
        datasetId: dataset.id,
        resources: { gpuModel: dto.resources.gpuModel, minVramGb: dto.resources.minVramGb, gpuCount: dto.resources.gpuCount, region: dto.resources.region },
        providerAllowlist: allowlist,
        maxPriceMicrosPerGpuHour: maxPrice,
        budgetCapMicros: budgetCap,
        holdMicros,
        holdId: hold.holdId,
        submittedQuote,
        steps,
        maxDurationSeconds: dto.maxDurationSeconds ?? 86_400,
        maxAttempts: dto.maxAttempts ?? 3,
        idempotencyKey: idempotencyKey ?? null,
        requestHash,
      },
      now,
    );
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(Job, job);
        await this.recordEvent(manager, job.id, null, 'submitted', null, 'queued', `Submitted; ${submittedQuote ? `estimated ${submittedQuote.summary}` : 'no offer matches yet'}.`, { holdMicros: holdMicros.toString() });
        await this.audit.record({ actor: principal, action: 'job.submitted', target: { type: 'job', id: job.id }, meta }, manager);
      });
    } catch (error) {
      await this.billing.releaseJobHold(jobId, hold.holdId);
      if ((error as { code?: string }).code === '23505' && idempotencyKey) return this.submit(principal, dto, idempotencyKey, meta);
      throw error;
    }
    this.queue.raise();
    return { job: this.view(job, []), created: true };
  }

  private estimateInput(recipe: JobRecipe, dataset: { sampleCount: number | null; tokenCount: number | null }): EstimateInput {
    const validationRuns = recipe.validationInterval && recipe.steps ? Math.floor(recipe.steps / recipe.validationInterval) : recipe.validationPrompts.length > 0 ? 1 : 0;
    return {
      recipe: {
        baseModelId: recipe.baseModelId,
        method: recipe.method,
        precision: recipe.precision,
        quantization: recipe.quantization,
        sequenceLength: recipe.sequenceLength,
        imageResolution: recipe.imageResolution,
        batchSize: recipe.batchSize,
        gradientAccumulation: recipe.gradientAccumulation,
      },
      steps: recipe.steps,
      epochs: recipe.epochs,
      dataset: { samples: dataset.sampleCount, tokens: dataset.tokenCount },
      validation: recipe.validationPrompts.length > 0 ? { runs: validationRuns, promptsPerRun: recipe.validationPrompts.length } : undefined,
    };
  }

  /**
   * Quote rows that this job could run on, cheapest first: the submitted quote's, or a fresh
   * estimate's when no quote was named or it is unknown or expired (then `quoteId` is null: the job
   * records only a quote it was really priced from).
   */
  private async quoteRows(
    orgId: string,
    quoteId: string | undefined,
    input: EstimateInput,
    filters: { resources: SubmitJobDto['resources']; allowlist: ProviderKind[]; maxPrice: bigint | null },
    now: Date,
  ): Promise<{ quoteId: string | null; rows: QuoteRow[] }> {
    const quote = quoteId ? await this.estimates.findQuote(orgId, quoteId, now) : null;
    const rows = quote ? quote.rows : await this.estimates.estimate(input, await this.offers.list(this.offerQuery(filters)));
    return {
      quoteId: quote?.id ?? null,
      rows: rows
        .filter((row) => this.offerMatches(row.offer, filters))
        .sort((a, b) => (a.costMicros.p50 === b.costMicros.p50 ? 0 : a.costMicros.p50 < b.costMicros.p50 ? -1 : 1)),
    };
  }

  offerQuery(filters: { resources: { gpuModel?: string; minVramGb?: number; gpuCount: number; region?: string }; allowlist: ProviderKind[]; maxPrice: bigint | null }) {
    return {
      gpuModelIds: filters.resources.gpuModel ? [catalogGpuId(filters.resources.gpuModel)] : undefined,
      minVramGb: filters.resources.minVramGb,
      minGpuCount: filters.resources.gpuCount,
      maxPriceMicrosPerGpuHour: filters.maxPrice ?? undefined,
      regions: filters.resources.region ? [filters.resources.region] : undefined,
      providerKinds: filters.allowlist,
    };
  }

  /** The offer suits the job: the port's own query match, plus the provider allowlist. */
  offerMatches(offer: Offer, filters: { resources: { gpuModel?: string; minVramGb?: number; gpuCount: number; region?: string }; allowlist: ProviderKind[]; maxPrice: bigint | null }): boolean {
    return filters.allowlist.includes(offer.providerKind) && matchesOfferQuery(offer, this.offerQuery(filters));
  }

  async cancel(principal: Principal, jobId: string, meta: RequestMeta) {
    const now = this.clock.now();
    const result = await this.dataSource.transaction(async (manager) => {
      const job = await manager.findOne(Job, { where: { id: jobId, orgId: principal.orgId }, lock: { mode: 'pessimistic_write' } });
      if (!job) throw notFound('Job');
      if (isTerminal(job.status)) return { job, releaseHold: false };
      await this.audit.record({ actor: principal, action: 'job.cancel_requested', target: { type: 'job', id: job.id }, meta }, manager);
      if (job.status === 'queued' || job.status === 'matching') {
        await this.transition(manager, job, 'canceled', 'Canceled by the user before it started.');
        await manager.update(Job, { id: job.id }, { finishedAt: now, finalMessage: 'Canceled by the user.' });
        return { job: { ...job, status: 'canceled' as JobStatus, finishedAt: now }, releaseHold: true };
      }
      if (!job.cancelRequestedAt) {
        await manager.update(Job, { id: job.id }, { cancelRequestedAt: now, updatedAt: now });
        await this.recordEvent(manager, job.id, null, 'cancel_requested', job.status, job.status, 'Cancel requested: the machine is told to stop and save a final checkpoint.', {});
      }
      return { job: { ...job, cancelRequestedAt: job.cancelRequestedAt ?? now }, releaseHold: false };
    });
    if (result.releaseHold) await this.billing.releaseJobHold(jobId, result.job.holdId);
    return this.get(principal, jobId);
  }

  /** Moves a job to a new status (refusing illegal moves), with an event row and a live event. */
  async transition(manager: EntityManager, job: Job, to: JobStatus, message: string, data: Record<string, unknown> = {}, attemptId: string | null = null): Promise<void> {
    if (!canTransition(job.status, to)) {
      throw conflict('illegal_transition', `A ${job.status} job cannot become ${to}.`);
    }
    const now = this.clock.now();
    const result = await manager.update(Job, { id: job.id, status: job.status }, { status: to, updatedAt: now });
    if ((result.affected ?? 0) !== 1) throw conflict('concurrent_update', 'The job changed while this was being applied; try again.');
    await this.recordEvent(manager, job.id, attemptId, 'status', job.status, to, message, data);
    job.status = to;
  }

  /**
   * `transition` for many jobs in three statements: one update (each row only from the status it
   * was read in), the event rows, the live events. Refuses the whole batch if any move is illegal
   * or any job changed meanwhile (the caller's transaction then rolls back).
   */
  async transitionMany(manager: EntityManager, moves: readonly { job: Job; to: JobStatus; message: string; data?: Record<string, unknown>; attemptId?: string | null }[]): Promise<void> {
    if (moves.length === 0) return;
    for (const move of moves) {
      if (!canTransition(move.job.status, move.to)) throw conflict('illegal_transition', `A ${move.job.status} job cannot become ${move.to}.`);
    }
    const now = this.clock.now();
    const updated: unknown = await manager.query(
      `UPDATE jobs SET status = m.to_status, updated_at = $4 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS m(id, from_status, to_status)
       WHERE jobs.id = m.id AND jobs.status = m.from_status RETURNING jobs.id`,
      [moves.map((m) => m.job.id), moves.map((m) => m.job.status), moves.map((m) => m.to), now],
    );
    if (returningRows(updated).length !== moves.length) throw conflict('concurrent_update', 'A job changed while this was being applied; try again.');
    const rows: JobEvent[] = moves.map((m) => ({ id: this.newId(), jobId: m.job.id, attemptId: m.attemptId ?? null, at: now, type: 'status', fromStatus: m.job.status, toStatus: m.to, message: m.message, data: m.data ?? {} }));
    await insertJobEvents(manager, rows);
    await this.outbox.enqueueMany(manager, rows.map((row) => ({ subject: jobEventsSubject(this.nats.prefix, row.jobId), payload: { kind: 'event', event: { ...row, at: row.at.toISOString() } } })));
    for (const move of moves) move.job.status = move.to;
  }

  async recordEvent(manager: EntityManager, jobId: string, attemptId: string | null, type: string, from: string | null, to: string | null, message: string, data: Record<string, unknown>): Promise<void> {
    const row: JobEvent = { id: this.newId(), jobId, attemptId, at: this.clock.now(), type, fromStatus: from, toStatus: to, message, data };
    await manager.insert(JobEvent, row as never);
    await this.outbox.enqueue(manager, jobEventsSubject(this.nats.prefix, jobId), { kind: 'event', event: { ...row, at: row.at.toISOString() } });
  }

  async list(principal: Principal, options: { limit?: number; before?: string; status?: string }) {
    const limit = Math.min(100, Math.max(1, options.limit ?? 25));
    const where: Record<string, unknown> = { orgId: principal.orgId };
    if (options.status) where.status = options.status;
    if (options.before) {
      const cursor = await this.dataSource.manager.findOneBy(Job, { id: options.before, orgId: principal.orgId });
      if (cursor) where.createdAt = LessThan(cursor.createdAt);
    }
    const jobs = await this.dataSource.manager.find(Job, { where, order: { createdAt: 'DESC' }, take: limit + 1 });
    const page = jobs.slice(0, limit);
    const attempts = page.length > 0 ? await this.dataSource.manager.find(Attempt, { where: { jobId: In(page.map((j) => j.id)) }, order: { number: 'ASC' } }) : [];
    return {
      jobs: page.map((job) => this.view(job, attempts.filter((a) => a.jobId === job.id))),
      nextCursor: jobs.length > limit ? page[page.length - 1]!.id : null,
    };
  }

  async get(principal: Principal, jobId: string) {
    const job = await this.requireJob(principal, jobId);
    const attempts = await this.dataSource.manager.find(Attempt, { where: { jobId }, order: { number: 'ASC' } });
    return this.view(job, attempts);
  }

  async requireJob(principal: Principal, jobId: string): Promise<Job> {
    const job = await this.dataSource.manager.findOneBy(Job, { id: jobId, orgId: principal.orgId });
    if (!job) throw notFound('Job');
    return job;
  }

  async events(principal: Principal, jobId: string) {
    await this.requireJob(principal, jobId);
    const rows = await this.dataSource.manager.find(JobEvent, { where: { jobId }, order: { at: 'ASC', id: 'ASC' } });
    return rows.map((e) => ({ id: e.id, at: e.at.toISOString(), type: e.type, attemptId: e.attemptId, from: e.fromStatus, to: e.toStatus, message: e.message, data: e.data }));
  }

  /**
   * A job's log lines, oldest first: a page after `afterSeq`, or the `last` lines (the end of a long
   * run, as a reader opening the page wants it). `nextAfterSeq` continues from either.
   */
  async logs(principal: Principal, jobId: string, options: { afterSeq?: number; last?: number; limit?: number }) {
    await this.requireJob(principal, jobId);
    if (options.last !== undefined && options.afterSeq !== undefined) {
      throw badRequest('validation_failed', 'Ask for the lines after afterSeq or for the last lines, not both.', { fields: [{ field: 'last', message: 'cannot be combined with afterSeq' }] });
    }
    const limit = Math.min(1000, Math.max(1, options.last ?? options.limit ?? 200));
    const query = this.dataSource.manager.createQueryBuilder(JobLog, 'l').where('l.job_id = :jobId', { jobId }).limit(limit);
    const rows: JobLog[] =
      options.last !== undefined
        ? (await query.orderBy('l.seq', 'DESC').getMany()).reverse()
        : await query.andWhere('l.seq > :after', { after: String(options.afterSeq ?? 0) }).orderBy('l.seq', 'ASC').getMany();
    return {
      lines: rows.map((l) => ({ seq: Number(l.seq), at: l.at.toISOString(), attemptId: l.attemptId, stream: l.stream, line: l.line })),
      nextAfterSeq: rows.length > 0 ? Number(rows[rows.length - 1]!.seq) : (options.afterSeq ?? 0),
    };
  }

  async metrics(principal: Principal, jobId: string) {
    await this.requireJob(principal, jobId);
    const rows = await this.dataSource.manager.find(JobMetric, { where: { jobId }, order: { step: 'ASC', at: 'ASC' } });
    return {
      points: rows.map((m) => ({ step: m.step, at: m.at.toISOString(), attemptId: m.attemptId, loss: m.loss, stepTimeMs: m.stepTimeMs, gpuUtilizationPct: m.gpuUtilizationPct })),
    };
  }

  /** Final artifacts with presigned downloads, during the download window after completion. */
  async artifacts(principal: Principal, jobId: string) {
    const job = await this.requireJob(principal, jobId);
    const windowEnds = job.finishedAt ? new Date(job.finishedAt.getTime() + this.config.JOB_OUTPUT_RETENTION_DAYS * 86_400_000) : null;
    if (!windowEnds || job.artifactKeys.length === 0) return { artifacts: [], availableUntil: windowEnds?.toISOString() ?? null };
    if (windowEnds <= this.clock.now()) return { artifacts: [], availableUntil: windowEnds.toISOString(), expired: true };
    const artifacts = await Promise.all(
      job.artifactKeys.map(async (key) => ({ key, name: key.split('/').pop() ?? key, url: await this.storage.presignGet(key, 900, key.split('/').pop()) })),
    );
    return { artifacts, availableUntil: windowEnds.toISOString() };
  }

  view(job: Job, attempts: Attempt[]) {
    const now = this.clock.now();
    const live = attempts.find((a) => a.status !== 'ended');
    const settled = attempts.reduce((sum, a) => sum + a.costMicros, 0n);
    const liveCost = live && live.runningAt ? this.billing.costSoFar({ priceMicrosPerGpuHour: live.priceMicrosPerGpuHour, gpuCount: live.gpuCount, runningAt: live.runningAt, now }) : 0n;
    return {
      id: job.id,
      name: job.name,
      status: job.status,
      waitingBecause: job.status === 'queued' || job.status === 'matching' ? job.waitReason : null,
      recipe: job.recipe,
      datasetId: job.datasetId,
      resources: job.resources,
      providerAllowlist: job.providerAllowlist,
      maxPriceMicrosPerGpuHour: job.maxPriceMicrosPerGpuHour?.toString() ?? null,
      budgetCapMicros: job.budgetCapMicros?.toString() ?? null,
      holdMicros: job.holdMicros.toString(),
      steps: job.steps,
      quote: job.submittedQuote,
      estimate: job.submittedQuote ? { runtimeSeconds: job.submittedQuote.runtimeSeconds, costMicros: job.submittedQuote.costMicros, summary: job.submittedQuote.summary } : null,
      actual: { runtimeSeconds: job.runtimeSeconds, costMicros: job.costMicros.toString() },
      costSoFarMicros: (settled + liveCost).toString(),
      cancelRequested: job.cancelRequestedAt !== null,
      finalMessage: job.finalMessage,
      attempts: attempts.map((a) => ({
        id: a.id,
        number: a.number,
        providerKind: a.providerKind,
        offerId: a.offerId,
        nodeId: a.nodeId,
        gpuModel: a.gpuModel,
        gpuCount: a.gpuCount,
        priceMicrosPerGpuHour: a.priceMicrosPerGpuHour.toString(),
        status: a.status,
        endReason: a.endReason,
        createdAt: a.createdAt.toISOString(),
        runningAt: a.runningAt?.toISOString() ?? null,
        endedAt: a.endedAt?.toISOString() ?? null,
        billableSeconds: a.billableSeconds,
        costMicros: a.costMicros.toString(),
      })),
      createdAt: job.createdAt.toISOString(),
      startedAt: job.startedAt?.toISOString() ?? null,
      finishedAt: job.finishedAt?.toISOString() ?? null,
    };
  }
}

/** Job event rows in one plain statement (TypeORM's multi-row INSERT builder costs more CPU than the insert). */
export async function insertJobEvents(manager: EntityManager, rows: readonly JobEvent[], options: { onConflictDoNothing?: boolean } = {}): Promise<string[]> {
  if (rows.length === 0) return [];
  const inserted: unknown = await manager.query(
    `INSERT INTO job_events (id, job_id, attempt_id, at, type, from_status, to_status, message, data)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[])
     ${options.onConflictDoNothing ? 'ON CONFLICT DO NOTHING' : ''} RETURNING id`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.jobId),
      rows.map((r) => r.attemptId),
      rows.map((r) => r.at),
      rows.map((r) => r.type),
      rows.map((r) => r.fromStatus),
      rows.map((r) => r.toStatus),
      rows.map((r) => r.message),
      rows.map((r) => JSON.stringify(r.data ?? {})),
    ],
  );
  return returningRows<{ id: string }>(inserted).map((row) => row.id);
}
