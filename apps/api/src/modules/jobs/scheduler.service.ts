import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { NoCapacityError, ProviderError, QuotaExceededError, type Offer } from '@anneal/providers';
import type { Logger } from 'pino';
import { DataSource, In, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { Attempt } from './entities/attempt.entity.js';
import { Job } from './entities/job.entity.js';
import { isTerminal, retryDelaySeconds, type EndReason } from './job-state.js';
import { BILLING_PORT, COMPUTE_PORT, DATASET_PORT, ESTIMATE_PORT, OFFER_PORT, type BillingPort, type ComputePort, type DatasetPort, type EstimatePort, type OfferPort, type TrainableDataset } from './jobs.ports.js';
import { AttemptLifecycle, type AttemptEnding } from './attempt-lifecycle.service.js';
import { JobsService } from './jobs.service.js';
import { describeOffer, describeWait, rankCandidates, type RankedCandidate, type SkipReason } from './offer-ranking.js';
import { QueueSignal } from './queue-signal.js';
import { budgetStopAt } from '../nodes/budget-stop.js';
import { AppError } from '../../core/errors/app-error.js';

/** Jobs claimed and placed in one transaction. */
const BATCH = 200;
/** Rounds in flight at once on one replica. */
const ROUNDS_AT_ONCE = 2;
/** Rounds in one run of the loop while they come back full (a backlog drains at full speed). */
const MAX_ROUNDS = 50;
/** A listing of the offers is reused this long (nodes taken meanwhile are remembered). */
const OFFERS_TTL_MS = 500;
/** Ways a job may try in one round when the node it chose was taken by another replica. */
const PICK_PASSES = 3;
/** Provisions (assignment out, waiting for the machine's answer) in flight on this replica. */
const MAX_PROVISIONS_IN_FLIGHT = 2_000;
/** An offer that failed a job is skipped for that job this long (on this replica). */
const SKIP_MEMORY_MS = 10 * 60_000;
const PROVISIONING_TIMEOUT_MS = 10 * 60_000;
/** An attempt ended this long ago and still unsettled had its settlement fail: the sweep settles it. */
const SETTLE_RETRY_AFTER_MS = 30_000;
const SHUTDOWN_GRACE_MS = 5_000;
/** A job a round may claim (alias `j`). */
const DUE = "j.status = 'queued' AND j.next_attempt_at <= :now AND j.cancel_requested_at IS NULL";

export function attemptTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** One placement decided in a round's transaction, provisioned after it commits. */
interface Placement {
  job: Job;
  dataset: TrainableDataset;
  offer: Offer;
  attempt: Attempt;
  attemptToken: string;
}

/** A claimed job and where it stands in its ranked candidates. */
interface Plan {
  job: Job;
  dataset: TrainableDataset;
  ranked: RankedCandidate[];
  next: number;
  skips: SkipReason[];
}

/**
 * Matches queued jobs to offers and starts attempts. Safe in every replica: a round claims its
 * jobs with FOR UPDATE SKIP LOCKED, reserves every chosen node in one statement that skips rows
 * another transaction holds, and writes the attempts, transitions and outbox rows in that same
 * transaction; the database's unique indexes on live attempts make a node's double booking or a
 * job's second live attempt impossible, whatever the replicas do. Machines are provisioned after
 * the commit, many at a time, and a failure sends the job back to the queue with the reason.
 */
@Injectable()
export class SchedulerService implements OnApplicationShutdown {
  private placing = false;
  private again = false;
  private sweeping = false;
  private stopped = false;
  private round: Round | null = null;
  private listing: Promise<Round> | null = null;
  private readonly provisions = new Set<Promise<void>>();
  /** Offers that failed a job recently: skipped when it is matched again, named in its wait reason. */
  private readonly recentSkips = new Map<string, { skips: SkipReason[]; until: number }>();
  private readonly unlisten: () => void;
  constructor(
    private readonly dataSource: DataSource,
    private readonly jobs: JobsService,
    private readonly lifecycle: AttemptLifecycle,
    @Inject(OFFER_PORT) private readonly offers: OfferPort,
    @Inject(ESTIMATE_PORT) private readonly estimates: EstimatePort,
    @Inject(COMPUTE_PORT) private readonly compute: ComputePort,
    @Inject(DATASET_PORT) private readonly datasets: DatasetPort,
    @Inject(BILLING_PORT) private readonly billing: BillingPort,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
    queue: QueueSignal,
  ) {
    this.unlisten = queue.listen(() => void this.loop());
  }

  /** Runs rounds until the due queue is drained; a call while one runs makes it go round again. */
  @Interval('scheduler', 250)
  async loop(): Promise<void> {
    if (!this.config.SCHEDULER_ENABLED || this.stopped) return;
    if (this.placing) {
      this.again = true;
      return;
    }
    this.placing = true;
    try {
      do {
        this.again = false;
        // Rounds run side by side: each waits mostly on the database, and SKIP LOCKED gives each
        // its own jobs while the shared listing's taken set keeps them off each other's nodes.
        for (let round = 0; round < MAX_ROUNDS; round += ROUNDS_AT_ONCE) {
          const rounds = await Promise.all(Array.from({ length: ROUNDS_AT_ONCE }, () => this.tick(BATCH)));
          if (rounds.every(({ claimed }) => claimed < BATCH)) break;
        }
      } while (this.again && !this.stopped);
    } catch (error) {
      this.logger.error({ err: error }, 'scheduler round failed');
    } finally {
      this.placing = false;
    }
  }

  @Interval('scheduler-sweep', 1000)
  async sweepLoop(): Promise<void> {
    if (!this.config.SCHEDULER_ENABLED || this.stopped || this.sweeping) return;
    this.sweeping = true;
    try {
      await this.sweep();
    } catch (error) {
      this.logger.error({ err: error }, 'scheduler sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * One round: claims up to `limit` due queued jobs, decides where each goes, reserves and writes
   * it all in one transaction, then starts the machines. Returns how many were claimed and placed.
   */
  async tick(limit = BATCH): Promise<{ claimed: number; placed: number }> {
    if (!(await this.anyDue())) return { claimed: 0, placed: 0 };
    const round = await this.currentRound();
    const outcome = await this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      const claimed: Job[] = await manager
        .createQueryBuilder(Job, 'j')
        .where(DUE, { now })
        .orderBy('j.next_attempt_at', 'ASC')
        .limit(limit)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      if (claimed.length === 0) return null;
      await this.jobs.transitionMany(manager, claimed.map((job) => ({ job, to: 'matching' as const, message: 'Matching against the offers available now.' })));

      const trainable = await this.datasets.trainableMany(claimed.map((job) => ({ orgId: job.orgId, datasetId: job.datasetId })));
      const gone: Job[] = [];
      const plans: Plan[] = [];
      for (const job of claimed) {
        const dataset = trainable.get(job.datasetId);
        if (!dataset) gone.push(job);
        else plans.push({ job, dataset, ...(await this.candidatesFor(job, dataset, round)), next: 0 });
      }

      // Each job takes its best candidate that nobody in this round holds; the nodes are reserved
      // together; a job whose node another replica got takes its next, up to PICK_PASSES times.
      const placed: Placement[] = [];
      let pending = plans;
      const waiting: Plan[] = [];
      for (let pass = 0; pass < PICK_PASSES && pending.length > 0; pass += 1) {
        const picks: { plan: Plan; offer: Offer; attemptId: string }[] = [];
        for (const plan of pending) {
          const candidate = this.nextCandidate(plan, round);
          if (candidate) picks.push({ plan, offer: candidate.offer, attemptId: this.newId() });
          else waiting.push(plan);
        }
        const granted = await this.compute.reserve(manager, picks);
        pending = [];
        for (const pick of picks) {
          const grant = granted.get(pick.attemptId);
          if (!grant) {
            pick.plan.skips.push({ offerId: pick.offer.offerId, reason: `${describeOffer(pick.offer)}: taken by another job` });
            pending.push(pick.plan);
            continue;
          }
          const attemptToken = `att_${randomBytes(32).toString('base64url')}`;
          placed.push({ job: pick.plan.job, dataset: pick.plan.dataset, offer: pick.offer, attemptToken, attempt: this.attemptRow(pick.plan.job, pick.attemptId, pick.offer, grant, attemptToken, now) });
        }
      }
      waiting.push(...pending);

      await this.writePlacements(manager, placed);
      await this.writeWaiting(manager, waiting, now);
      if (gone.length > 0) {
        const message = 'The dataset is no longer available (deleted or expired), so the job cannot run.';
        await this.jobs.transitionMany(manager, gone.map((job) => ({ job, to: 'failed' as const, message })));
        await manager.update(Job, { id: In(gone.map((job) => job.id)) }, { finishedAt: now, finalMessage: message, updatedAt: now });
      }
      return { claimed: claimed.length, placed, gone };
    });
    if (!outcome) return { claimed: 0, placed: 0 };
    for (const job of outcome.gone) {
      await this.billing.releaseJobHold(job.id, job.holdId).catch((error: unknown) => this.logger.error({ err: error, jobId: job.id }, 'releasing the hold of an unplaceable job failed'));
    }
    for (const placement of outcome.placed) await this.startProvisioning(placement);
    return { claimed: outcome.claimed, placed: outcome.placed.length };
  }

  /** Resolves when every provision started so far has finished (tests, shutdown). */
  async provisioned(): Promise<void> {
    while (this.provisions.size > 0) await Promise.allSettled([...this.provisions]);
  }

  /**
   * Stops matching; provisions in flight get a few seconds to hear their answer. One cut short is
   * not lost: its attempt row exists, the node's `accepted` reaches whichever replica consumes it,
   * and an attempt that never starts is ended by the provisioning timeout.
   */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unlisten();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.provisioned(), new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
    clearTimeout(timer);
  }

  private async anyDue(): Promise<boolean> {
    const due = await this.dataSource.manager.createQueryBuilder(Job, 'j').select('1').where(DUE, { now: this.clock.now() }).limit(1).getRawOne();
    return due !== undefined;
  }


  /** The listing of offers rounds share for OFFERS_TTL_MS, with the offers they have taken. */
  private currentRound(): Promise<Round> {
    const at = Date.now();
    if (this.round && at - this.round.listedAt < OFFERS_TTL_MS) return Promise.resolve(this.round);
    // Rounds running side by side share one listing.
    this.listing ??= this.offers
      .list({})
      .then((offers) => (this.round = { listedAt: at, offers, taken: new Set(), ranked: new Map() }))
      .finally(() => (this.listing = null));
    return this.listing;
  }

  /** The job's ranked candidates (shared by every job of the same recipe and filters this round). */
  private async candidatesFor(job: Job, dataset: TrainableDataset, round: Round): Promise<{ ranked: RankedCandidate[]; skips: SkipReason[] }> {
    const remembered = this.recentSkips.get(job.id);
    const skips = remembered && remembered.until > Date.now() ? [...remembered.skips] : [];
    const filters = { resources: job.resources, allowlist: job.providerAllowlist as Offer['providerKind'][], maxPrice: job.maxPriceMicrosPerGpuHour };
    const input = { recipe: { ...job.recipe }, steps: job.steps, dataset: { samples: dataset.sampleCount, tokens: dataset.tokenCount } };
    const key = JSON.stringify([input, filters, job.maxPriceMicrosPerGpuHour?.toString() ?? null]);
    let ranked = round.ranked.get(key);
    if (!ranked) {
      ranked = (async () => {
        const offers = round.offers.filter((offer) => this.jobs.offerMatches(offer, filters));
        const rows = offers.length > 0 ? await this.estimates.estimate(input, offers) : [];
        return rankCandidates(rows.map((row) => ({ offer: row.offer, runtimeSeconds: row.runtimeSeconds.p50, costMicros: row.costMicros.p50 })));
      })();
      round.ranked.set(key, ranked);
    }
    try {
      return { ranked: await ranked, skips };
    } catch (error) {
      const reason = error instanceof AppError ? error.message : 'the estimate could not be made';
      if (!(error instanceof AppError)) this.logger.warn({ err: error, jobId: job.id }, 'estimating a queued job failed');
      return { ranked: [], skips: [...skips, { offerId: '-', reason }] };
    }
  }

  /** The best candidate nobody in this round holds and that has not failed this job lately; a machine is marked taken. */
  private nextCandidate(plan: Plan, round: Round): RankedCandidate | null {
    const failed = new Set(plan.skips.map((skip) => skip.offerId));
    while (plan.next < plan.ranked.length) {
      const candidate = plan.ranked[plan.next++]!;
      if (round.taken.has(candidate.offer.offerId) || failed.has(candidate.offer.offerId)) continue;
      // A community offer is one machine; a cloud offer is a pool, whose capacity its provider checks when provisioning.
      if (candidate.offer.providerKind === 'community') round.taken.add(candidate.offer.offerId);
      return candidate;
    }
    return null;
  }

  private attemptRow(job: Job, attemptId: string, offer: Offer, grant: { providerOrgId: string; nodeId: string | null }, attemptToken: string, now: Date): Attempt {
    return {
      id: attemptId,
      jobId: job.id,
      orgId: job.orgId,
      number: 0,
      providerKind: offer.providerKind,
      offerId: offer.offerId,
      nodeId: grant.nodeId,
      providerOrgId: grant.providerOrgId,
      instanceId: null,
      gpuModel: offer.gpuModelId,
      gpuCount: job.resources.gpuCount,
      priceMicrosPerGpuHour: offer.priceMicrosPerGpuHour,
      status: 'provisioning',
      endReason: null,
      attemptTokenHash: attemptTokenHash(attemptToken),
      createdAt: now,
      runningAt: null,
      endedAt: null,
      lastSeenAt: null,
      billableSeconds: null,
      costMicros: 0n,
      lastEventSeq: 0,
    };
  }

  /** The round's attempts (numbered per job), and their jobs moved to provisioning. */
  private async writePlacements(manager: EntityManager, placed: Placement[]): Promise<void> {
    if (placed.length === 0) return;
    const counts: { job_id: string; n: number }[] = await manager.query('SELECT job_id, count(*)::int AS n FROM attempts WHERE job_id = ANY($1::uuid[]) GROUP BY job_id', [placed.map((p) => p.job.id)]);
    const before = new Map(counts.map((row) => [row.job_id, row.n]));
    for (const placement of placed) placement.attempt.number = (before.get(placement.job.id) ?? 0) + 1;
    // Plain SQL: TypeORM's multi-row INSERT builder costs more CPU than the statement (22 columns × 200 rows).
    const attempts = placed.map((p) => p.attempt);
    const column = <T>(pick: (attempt: Attempt) => T) => attempts.map(pick);
    await manager.query(
      `INSERT INTO attempts (id, job_id, org_id, number, provider_kind, offer_id, node_id, provider_org_id, instance_id, gpu_model, gpu_count,
                             price_micros_per_gpu_hour, status, end_reason, attempt_token_hash, created_at, running_at, ended_at, last_seen_at,
                             billable_seconds, cost_micros, last_event_seq)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::text[], $7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::int[],
                            $12::bigint[], $13::text[], $14::text[], $15::text[], $16::timestamptz[], $17::timestamptz[], $18::timestamptz[], $19::timestamptz[],
                            $20::int[], $21::bigint[], $22::int[])`,
      [
        column((a) => a.id),
        column((a) => a.jobId),
        column((a) => a.orgId),
        column((a) => a.number),
        column((a) => a.providerKind),
        column((a) => a.offerId),
        column((a) => a.nodeId),
        column((a) => a.providerOrgId),
        column((a) => a.instanceId),
        column((a) => a.gpuModel),
        column((a) => a.gpuCount),
        column((a) => a.priceMicrosPerGpuHour.toString()),
        column((a) => a.status),
        column((a) => a.endReason),
        column((a) => a.attemptTokenHash),
        column((a) => a.createdAt),
        column((a) => a.runningAt),
        column((a) => a.endedAt),
        column((a) => a.lastSeenAt),
        column((a) => a.billableSeconds),
        column((a) => a.costMicros.toString()),
        column((a) => a.lastEventSeq),
      ],
    );
    await this.jobs.transitionMany(
      manager,
      placed.map((p) => ({
        job: p.job,
        to: 'provisioning' as const,
        message: `Starting attempt ${p.attempt.number} on ${describeOffer(p.offer)}.`,
        data: { offerId: p.offer.offerId, priceMicrosPerGpuHour: p.offer.priceMicrosPerGpuHour.toString() },
        attemptId: p.attempt.id,
      })),
    );
  }

  /** Jobs no candidate took: back to the queue with the reasons, retried with backoff. */
  private async writeWaiting(manager: EntityManager, waiting: Plan[], now: Date): Promise<void> {
    if (waiting.length === 0) return;
    const rows = waiting.map((plan) => {
      const failedRounds = plan.job.failedRounds + 1;
      const next = new Date(now.getTime() + retryDelaySeconds(failedRounds) * 1000);
      return { plan, failedRounds, next, reason: describeWait(plan.skips, next, now) };
    });
    await this.jobs.transitionMany(manager, rows.map((row) => ({ job: row.plan.job, to: 'queued' as const, message: row.reason, data: { skipped: row.plan.skips } })));
    await manager.query(
      `UPDATE jobs SET failed_rounds = w.failed_rounds, next_attempt_at = w.next_at, wait_reason = w.reason
       FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::text[]) AS w(id, failed_rounds, next_at, reason) WHERE jobs.id = w.id`,
      [rows.map((r) => r.plan.job.id), rows.map((r) => r.failedRounds), rows.map((r) => r.next), rows.map((r) => r.reason)],
    );
  }

  /** Starts the machine in the background (bounded in flight); a failure requeues the job with the reason. */
  private async startProvisioning(placement: Placement): Promise<void> {
    while (this.provisions.size >= MAX_PROVISIONS_IN_FLIGHT) await Promise.race(this.provisions);
    const running = this.provision(placement).finally(() => this.provisions.delete(running));
    this.provisions.add(running);
  }

  private async provision({ job, dataset, offer, attempt, attemptToken }: Placement): Promise<void> {
    try {
      const assignment = await this.buildAssignment(job, attempt, offer, dataset, attemptToken);
      const instance = await this.compute.provision({ attemptId: attempt.id, offer, assignment });
      await this.lifecycle.recordInstance(attempt.id, instance.instanceId);
      // A cloud attempt that ended while its machine was starting found no instance to delete.
      if (offer.providerKind !== 'community') await this.stopIfEnded(attempt.id, offer, instance.instanceId);
    } catch (error) {
      const reason = error instanceof ProviderError ? error.message : `${describeOffer(offer)}: could not start the machine`;
      if (!(error instanceof ProviderError)) this.logger.warn({ err: error, attemptId: attempt.id }, 'provisioning failed with an unexpected error');
      const endReason: EndReason = error instanceof NoCapacityError || error instanceof QuotaExceededError ? 'no_capacity' : 'error';
      this.rememberSkip(job.id, { offerId: offer.offerId, reason });
      await this.lifecycle.provisioningFailed(attempt.id, endReason, reason).catch((failure: unknown) => this.logger.error({ err: failure, attemptId: attempt.id }, 'ending a failed provision failed; the sweep ends it'));
    }
  }

  private async stopIfEnded(attemptId: string, offer: Offer, instanceId: string): Promise<void> {
    const [row] = (await this.dataSource.query('SELECT status FROM attempts WHERE id = $1', [attemptId])) as { status: string }[];
    if (row?.status === 'ended') await this.compute.terminate({ providerKind: offer.providerKind, offerId: offer.offerId }, instanceId, 'error');
  }

  private rememberSkip(jobId: string, skip: SkipReason): void {
    const now = Date.now();
    if (this.recentSkips.size > 10_000) {
      for (const [id, entry] of this.recentSkips) if (entry.until <= now) this.recentSkips.delete(id);
    }
    const entry = this.recentSkips.get(jobId);
    const skips = entry && entry.until > now ? entry.skips : [];
    this.recentSkips.set(jobId, { skips: [...skips.filter((s) => s.offerId !== skip.offerId), skip], until: now + SKIP_MEMORY_MS });
  }

  /**
   * The assignment carries no presigned URL: the agent asks the API for each, with the attempt
   * token, right before the transfer (short-lived, and refused once the attempt has ended). So a
   * placement presigns nothing, and a node keeps no storage access past its attempt.
   */
  private async buildAssignment(job: Job, attempt: Attempt, offer: Offer, dataset: { id: string; sizeBytes: number; sha256: string }, attemptToken: string) {
    const now = this.clock.now();
    const resume = job.lastCheckpointKey ? { step: await this.lifecycle.lastCheckpointStep(job.id), sizeBytes: null } : null;
    const spentMicros = await this.lifecycle.spentMicros(job.id);
    const stopAt = budgetStopAt({ startAt: now, budgetCapMicros: job.budgetCapMicros, spentMicros, priceMicrosPerGpuHour: offer.priceMicrosPerGpuHour, gpuCount: job.resources.gpuCount });
    const recipe = job.recipe;
    return {
      schemaVersion: 1,
      type: 'assign',
      nodeId: attempt.nodeId ?? attempt.offerId,
      attempt: {
        attemptId: attempt.id,
        jobId: job.id,
        recipe: {
          baseModelId: recipe.baseModelId,
          method: recipe.method,
          precision: recipe.precision === 'fp32' || recipe.precision === 'fp16' ? recipe.precision : 'bf16',
          quantization: recipe.quantization === 'none' ? null : (recipe.quantization as 'int8' | 'int4' | 'nf4'),
          sequenceLength: recipe.sequenceLength ?? null,
          imageResolution: recipe.imageResolution ?? null,
          batchSize: recipe.batchSize,
          gradientAccumulation: recipe.gradientAccumulation,
          steps: job.steps,
          epochs: null,
          validation: recipe.validationPrompts.length > 0 ? { prompts: recipe.validationPrompts, intervalSteps: recipe.validationInterval ?? Math.max(1, Math.floor(job.steps / 4)) } : null,
          hyperparameters: {
            ...(recipe.learningRate !== undefined ? { learningRate: recipe.learningRate } : {}),
            ...(recipe.loraRank !== undefined ? { loraRank: recipe.loraRank } : {}),
            ...(recipe.image ? { image: recipe.image } : {}),
          },
        },
        runnerKind: offer.simulated ? 'synthetic' : (recipe.runner ?? 'container'),
        maxDurationS: job.maxDurationSeconds,
        budgetStopAt: stopAt?.toISOString() ?? null,
        gpuIndices: null,
      },
      dataset: { sizeBytes: dataset.sizeBytes, sha256: dataset.sha256 },
      resumeCheckpoint: resume,
      attemptToken,
      issuedAt: now.toISOString(),
    };
  }

  /**
   * Recovery and limits, every second: attempts on nodes that went offline end `node_lost`;
   * attempts stuck provisioning end; budget caps and cancels are sent to the machines; ended
   * attempts not yet settled are settled.
   */
  async sweep(): Promise<void> {
    const now = this.clock.now();
    // A silent spot machine its provider reclaimed ends `preempted`, any other silent machine `node_lost`.
    const lost = await this.compute.attemptsOnLostNodes();
    const why = await this.compute.lostMachines(lost);
    await this.endAll(lost.map((attemptId) => ({ attemptId, ...why.get(attemptId)! })));
    const stuck: { id: string }[] = await this.dataSource.query("SELECT id FROM attempts WHERE status = 'provisioning' AND created_at < $1", [new Date(now.getTime() - PROVISIONING_TIMEOUT_MS)]);
    await this.endAll(stuck.map(({ id }) => ({ attemptId: id, reason: 'error' as const, message: 'The machine did not start training within 10 minutes.' })));
    await this.enforceLimits(now);
    // Only settlements that failed: an attempt that ended moments ago is being settled by whoever ended it.
    const unsettled: { id: string }[] = await this.dataSource.query(
      "SELECT id FROM attempts WHERE status = 'ended' AND billable_seconds IS NULL AND ended_at < $1 ORDER BY ended_at LIMIT 200",
      [new Date(now.getTime() - SETTLE_RETRY_AFTER_MS)],
    );
    await this.lifecycle.settleMany(unsettled.map(({ id }) => id));
  }

  /** Ends attempts together; one that could not be ended is logged and tried again by the next sweep. */
  private async endAll(endings: AttemptEnding[]): Promise<void> {
    for (const [attemptId, error] of await this.lifecycle.endAttempts(endings)) this.logger.error({ err: error, attemptId }, 'ending the attempt failed; the next sweep tries again');
  }

  /**
   * Cancels and budget caps reach the machine as a stop; the agent checkpoints and reports. Only
   * the attempts that could need one are read: a cancel asked for, a budget cap, or past the
   * job's maximum duration.
   */
  private async enforceLimits(now: Date): Promise<void> {
    const attempts = await this.dataSource.manager
      .createQueryBuilder(Attempt, 'a')
      .innerJoin(Job, 'j', 'j.id = a.job_id')
      .where("a.status IN ('provisioning', 'running')")
      .andWhere(
        "(j.cancel_requested_at IS NOT NULL OR j.budget_cap_micros IS NOT NULL OR (a.running_at IS NOT NULL AND a.running_at < :now::timestamptz - make_interval(secs => j.max_duration_seconds)))",
        { now },
      )
      .getMany();
    if (attempts.length === 0) return;
    const jobs = new Map((await this.dataSource.manager.find(Job, { where: { id: In(attempts.map((a) => a.jobId)) } })).map((job) => [job.id, job]));
    for (const attempt of attempts) {
      const job = jobs.get(attempt.jobId);
      if (!job || isTerminal(job.status)) continue;
      if (job.cancelRequestedAt) {
        await this.lifecycle.requestStop(attempt, 'user_canceled');
        continue;
      }
      const elapsedSeconds = attempt.runningAt ? (now.getTime() - attempt.runningAt.getTime()) / 1000 : 0;
      if (elapsedSeconds > job.maxDurationSeconds) {
        await this.lifecycle.requestStop(attempt, 'max_duration');
        continue;
      }
      if (job.budgetCapMicros !== null && attempt.runningAt) {
        const spent = (await this.lifecycle.spentMicros(job.id)) + this.billing.costSoFar({ priceMicrosPerGpuHour: attempt.priceMicrosPerGpuHour, gpuCount: attempt.gpuCount, runningAt: attempt.runningAt, now });
        if (spent >= job.budgetCapMicros) await this.lifecycle.requestStop(attempt, 'budget_exhausted');
      }
    }
  }
}

/** What consecutive rounds share while one listing of the offers is fresh. */
interface Round {
  listedAt: number;
  offers: Offer[];
  /** Offers a round has tried (placed there, or found taken). */
  taken: Set<string>;
  /** Ranked candidates per recipe and filters. */
  ranked: Map<string, Promise<RankedCandidate[]>>;
}
