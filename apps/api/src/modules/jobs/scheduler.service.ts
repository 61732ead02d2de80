import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { NoCapacityError, ProviderError, QuotaExceededError, type Offer } from '@anneal/providers';
import type { Logger } from 'pino';
import { DataSource, In, IsNull, Not } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { Attempt } from './entities/attempt.entity.js';
import { Job } from './entities/job.entity.js';
import { isTerminal, retryDelaySeconds, type EndReason } from './job-state.js';
import { BILLING_PORT, COMPUTE_PORT, DATASET_PORT, ESTIMATE_PORT, OFFER_PORT, STORAGE_PORT, type BillingPort, type ComputePort, type DatasetPort, type EstimatePort, type OfferPort, type StoragePort, type TrainableDataset } from './jobs.ports.js';
import { AttemptLifecycle } from './attempt-lifecycle.service.js';
import { JobsService } from './jobs.service.js';
import { describeOffer, describeWait, rankCandidates, type SkipReason } from './offer-ranking.js';

/** Checkpoint upload slots per assignment (the agent keeps the last for the final checkpoint). */
const CHECKPOINT_SLOTS = 8;
/** The dataset is downloaded when the attempt starts. */
const DATASET_URL_TTL_SECONDS = 6 * 3600;
/** Jobs claimed per round, and placed at once within a round. */
const BATCH = 50;
const PLACEMENT_CONCURRENCY = 8;
const PROVISIONING_TIMEOUT_MS = 10 * 60_000;

export function attemptTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Matches queued jobs to offers and starts attempts. Safe in every replica: jobs are claimed with
 * FOR UPDATE SKIP LOCKED, and the database's unique indexes on live attempts make a node's
 * double booking or a job's second live attempt impossible, whatever the replicas do.
 */
@Injectable()
export class SchedulerService {
  private ticking = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly jobs: JobsService,
    private readonly lifecycle: AttemptLifecycle,
    @Inject(OFFER_PORT) private readonly offers: OfferPort,
    @Inject(ESTIMATE_PORT) private readonly estimates: EstimatePort,
    @Inject(COMPUTE_PORT) private readonly compute: ComputePort,
    @Inject(DATASET_PORT) private readonly datasets: DatasetPort,
    @Inject(STORAGE_PORT) private readonly storage: StoragePort,
    @Inject(BILLING_PORT) private readonly billing: BillingPort,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Interval('scheduler', 1000)
  async loop(): Promise<void> {
    if (!this.config.SCHEDULER_ENABLED || this.ticking) return;
    this.ticking = true;
    try {
      // Keep claiming while rounds come back full, so a backlog drains at full speed.
      for (let round = 0; round < 50; round += 1) {
        const { claimed } = await this.tick(BATCH);
        if (claimed < BATCH) break;
      }
      await this.sweep();
    } catch (error) {
      this.logger.error({ err: error }, 'scheduler tick failed');
    } finally {
      this.ticking = false;
    }
  }

  /** One round: claims due queued jobs and tries to place each. Returns how many were placed. */
  async tick(limit = BATCH): Promise<{ claimed: number; placed: number }> {
    const now = this.clock.now();
    const claimed = await this.dataSource.transaction(async (manager) => {
      const rows: Job[] = await manager
        .createQueryBuilder(Job, 'j')
        .where("j.status = 'queued' AND j.next_attempt_at <= :now AND j.cancel_requested_at IS NULL", { now })
        .orderBy('j.next_attempt_at', 'ASC')
        .limit(limit)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      for (const job of rows) await this.jobs.transition(manager, job, 'matching', 'Matching against the offers available now.');
      return rows;
    });
    if (claimed.length === 0) return { claimed: 0, placed: 0 };
    // One listing of the offers per round; each job filters it. Offers a worker takes this round
    // are marked at once, so the other workers move on to the next instead of colliding on it.
    const round: Round = { offers: await this.offers.list({}), taken: new Set(), datasets: new Map(), datasetUrls: new Map() };
    let placed = 0;
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) {
        const job = claimed[next++]!;
        try {
          if (await this.place(job, round)) placed += 1;
        } catch (error) {
          this.logger.error({ err: error, jobId: job.id }, 'placing a job failed; it goes back to the queue');
          await this.requeue(job.id, [{ offerId: '-', reason: 'an internal error occurred while matching' }]);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PLACEMENT_CONCURRENCY, claimed.length) }, worker));
    return { claimed: claimed.length, placed };
  }

  /** Tries the ranked candidates in order; on exhaustion the job waits with the reasons. */
  private async place(job: Job, round: Round): Promise<boolean> {
    // A dataset shared by many queued jobs is checked once per round.
    const datasetKey = `${job.orgId}:${job.datasetId}`;
    let check = round.datasets.get(datasetKey);
    if (!check) {
      check = this.datasets.requireTrainable(job.orgId, job.datasetId).catch(() => null);
      round.datasets.set(datasetKey, check);
    }
    const dataset = await check;
    if (!dataset) {
      await this.lifecycle.failUnplaceable(job.id, 'The dataset is no longer available (deleted or expired), so the job cannot run.');
      return false;
    }
    const filters = { resources: job.resources, allowlist: job.providerAllowlist as Offer['providerKind'][], maxPrice: job.maxPriceMicrosPerGpuHour };
    const offers = round.offers.filter((offer) => !round.taken.has(offer.offerId) && this.jobs.offerMatches(offer, filters));
    const input = {
      recipe: { ...job.recipe },
      steps: job.steps,
      dataset: { samples: dataset.sampleCount, tokens: dataset.tokenCount },
    };
    const rows = offers.length > 0 ? await this.estimates.estimate(input, offers) : [];
    const ranked = rankCandidates(rows.map((row) => ({ offer: row.offer, runtimeSeconds: row.runtimeSeconds.p50, costMicros: row.costMicros.p50 })));
    const skips: SkipReason[] = [];
    for (const candidate of ranked) {
      if (round.taken.has(candidate.offer.offerId)) continue;
      // Marked before the first await: no other worker of this round tries the same machine.
      round.taken.add(candidate.offer.offerId);
      const outcome = await this.tryOffer(job, candidate.offer, dataset, round);
      if (outcome === 'placed') return true;
      if (outcome === 'gone') return false;
      skips.push({ offerId: candidate.offer.offerId, reason: outcome });
    }
    await this.requeue(job.id, skips);
    return false;
  }

  /** 'placed', 'gone' (the job was canceled meanwhile), or the reason this offer was skipped. */
  private async tryOffer(job: Job, offer: Offer, dataset: { id: string; sizeBytes: number; sha256: string }, round: Round): Promise<string> {
    const where = describeOffer(offer);
    const owner = await this.compute.providerOrgOf(offer);
    const attemptToken = `att_${randomBytes(32).toString('base64url')}`;
    const attemptId = this.newId();
    let attempt: Attempt;
    try {
      attempt = await this.dataSource.transaction(async (manager) => {
        const current = await manager.findOne(Job, { where: { id: job.id }, lock: { mode: 'pessimistic_write' } });
        if (!current || current.status !== 'matching' || current.cancelRequestedAt) throw new JobGone();
        // Read the clock after the lock, so attempt times follow the order the database serialised.
        const now = this.clock.now();
        const number = (await manager.countBy(Attempt, { jobId: job.id })) + 1;
        const row: Attempt = {
          id: attemptId,
          jobId: job.id,
          orgId: job.orgId,
          number,
          providerKind: offer.providerKind,
          offerId: offer.offerId,
          nodeId: owner.nodeId,
          providerOrgId: owner.providerOrgId,
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
        await manager.insert(Attempt, row);
        if (owner.nodeId && !(await this.compute.reserveNode(manager, owner.nodeId, attemptId))) throw new OfferTaken();
        await this.jobs.transition(manager, current, 'provisioning', `Starting attempt ${number} on ${where}.`, { offerId: offer.offerId, priceMicrosPerGpuHour: offer.priceMicrosPerGpuHour.toString() }, attemptId);
        return row;
      });
    } catch (error) {
      if (error instanceof JobGone) return 'gone';
      if (error instanceof OfferTaken) return `${where}: taken by another job`;
      // The partial unique index refused a second live attempt on this node: someone else won it.
      if ((error as { code?: string }).code === '23505') return `${where}: taken by another job`;
      throw error;
    }

    try {
      const assignment = await this.buildAssignment(job, attempt, offer, dataset, attemptToken, round);
      const instance = await this.compute.provision({ attemptId: attempt.id, offer, assignment });
      await this.dataSource.manager.update(Attempt, { id: attempt.id }, { instanceId: instance.instanceId });
      return 'placed';
    } catch (error) {
      const reason = error instanceof ProviderError ? error.message : `${where}: could not start the machine`;
      if (!(error instanceof ProviderError)) this.logger.warn({ err: error, attemptId: attempt.id }, 'provisioning failed with an unexpected error');
      const endReason: EndReason = error instanceof NoCapacityError || error instanceof QuotaExceededError ? 'no_capacity' : 'error';
      await this.lifecycle.endProvisioningFailure(attempt.id, endReason, reason);
      return reason;
    }
  }

  private async buildAssignment(job: Job, attempt: Attempt, offer: Offer, dataset: { id: string; sizeBytes: number; sha256: string }, attemptToken: string, round: Round) {
    const now = this.clock.now();
    const urlTtl = Math.min(7 * 86_400, job.maxDurationSeconds + 3600);
    const base = `jobs/${job.orgId}/${job.id}/${attempt.id}`;
    const checkpoints = await Promise.all(
      Array.from({ length: CHECKPOINT_SLOTS }, async (_, i) => {
        const key = `${base}/checkpoints/checkpoint-${String(i + 1).padStart(3, '0')}.bin`;
        const put = await this.storage.presignPut(key, urlTtl);
        return { key, putUrl: put.url, headers: put.headers };
      }),
    );
    // The agent uploads its output directory as one tar archive.
    const artifactKey = `jobs/${job.orgId}/${job.id}/artifacts/output.tar`;
    const logsKey = `${base}/logs.txt`;
    const [artifactPut, logsPut] = await Promise.all([this.storage.presignPut(artifactKey, urlTtl), this.storage.presignPut(logsKey, urlTtl)]);
    const resume = job.lastCheckpointKey ? { getUrl: await this.storage.presignGet(job.lastCheckpointKey, urlTtl), step: await this.lifecycle.lastCheckpointStep(job.id), sizeBytes: null } : null;
    const spentMicros = await this.lifecycle.spentMicros(job.id);
    const budgetStopAt =
      job.budgetCapMicros !== null
        ? new Date(now.getTime() + Number(((job.budgetCapMicros - spentMicros) * 3_600_000n) / (offer.priceMicrosPerGpuHour * BigInt(job.resources.gpuCount) || 1n)))
        : null;
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
        budgetStopAt: budgetStopAt?.toISOString() ?? null,
        gpuIndices: null,
      },
      dataset: { getUrl: await this.datasetUrl(round, dataset.id), sizeBytes: dataset.sizeBytes, sha256: dataset.sha256 },
      resumeCheckpoint: resume,
      uploads: {
        artifact: { key: artifactKey, putUrl: artifactPut.url, headers: artifactPut.headers },
        checkpoints,
        logs: { key: logsKey, putUrl: logsPut.url, headers: logsPut.headers },
        expiresAt: new Date(now.getTime() + urlTtl * 1000).toISOString(),
      },
      attemptToken,
      issuedAt: now.toISOString(),
    };
  }

  /** One presigned dataset URL per dataset per round (valid for the longest job's duration). */
  private datasetUrl(round: Round, datasetId: string): Promise<string> {
    let url = round.datasetUrls.get(datasetId);
    if (!url) {
      url = this.datasets.presignedGetUrl(datasetId, DATASET_URL_TTL_SECONDS);
      round.datasetUrls.set(datasetId, url);
    }
    return url;
  }

  /** Candidates exhausted: back to the queue with the reasons, retried with backoff. */
  private async requeue(jobId: string, skips: SkipReason[]): Promise<void> {
    const now = this.clock.now();
    await this.dataSource.transaction(async (manager) => {
      const job = await manager.findOne(Job, { where: { id: jobId }, lock: { mode: 'pessimistic_write' } });
      if (!job || job.status !== 'matching') return;
      const failedRounds = job.failedRounds + 1;
      const next = new Date(now.getTime() + retryDelaySeconds(failedRounds) * 1000);
      const reason = describeWait(skips, next, now);
      await manager.update(Job, { id: jobId }, { failedRounds, nextAttemptAt: next, waitReason: reason });
      await this.jobs.transition(manager, job, 'queued', reason, { skipped: skips });
    });
  }

  /**
   * Recovery and limits, every second: attempts on nodes that went offline end `node_lost`;
   * attempts stuck provisioning end; budget caps and cancels are sent to the machines; ended
   * attempts not yet settled are settled.
   */
  async sweep(): Promise<void> {
    const now = this.clock.now();
    const live = await this.dataSource.manager.find(Attempt, { where: { status: Not('ended') } });
    const nodeIds = live.map((a) => a.nodeId).filter((id): id is string => id !== null);
    const offline = new Set(nodeIds.length > 0 ? await this.compute.offlineNodes(nodeIds) : []);
    for (const attempt of live) {
      if (attempt.nodeId && offline.has(attempt.nodeId)) {
        await this.lifecycle.endAttempt(attempt.id, 'node_lost', 'The machine stopped sending heartbeats.');
      } else if (attempt.status === 'provisioning' && now.getTime() - attempt.createdAt.getTime() > PROVISIONING_TIMEOUT_MS) {
        await this.lifecycle.endAttempt(attempt.id, 'error', 'The machine did not start training within 10 minutes.');
      }
    }
    await this.enforceLimits(now);
    const unsettled = await this.dataSource.manager.find(Attempt, { where: { status: 'ended', billableSeconds: IsNull() }, take: 50 });
    for (const attempt of unsettled) await this.lifecycle.settle(attempt.id);
  }

  /** Cancels and budget caps reach the machine as a stop; the agent checkpoints and reports. */
  private async enforceLimits(now: Date): Promise<void> {
    const running = await this.dataSource.manager.find(Attempt, { where: { status: In(['provisioning', 'running']) } });
    if (running.length === 0) return;
    const jobs = await this.dataSource.manager.find(Job, { where: { id: In(running.map((a) => a.jobId)) } });
    for (const attempt of running) {
      const job = jobs.find((j) => j.id === attempt.jobId);
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

/** What the workers of one scheduling round share. */
interface Round {
  offers: Offer[];
  /** Offers a worker has tried this round (placed there, or found taken). */
  taken: Set<string>;
  datasets: Map<string, Promise<TrainableDataset | null>>;
  datasetUrls: Map<string, Promise<string>>;
}

class JobGone extends Error {}
class OfferTaken extends Error {}
