import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { benchmarkSamplesSubject, communityInstanceId, type AttemptEvent, type FinishedEvent } from '@anneal/providers';
import type { Logger } from 'pino';
import { DataSource, In, IsNull, Not } from 'typeorm';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { BenchmarksService } from '../benchmarks/benchmarks.service.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { OutboxService } from '../../core/outbox/outbox.service.js';
import { Attempt } from './entities/attempt.entity.js';
import { JobEvent } from './entities/job-event.entity.js';
import { JobLog } from './entities/job-log.entity.js';
import { JobMetric } from './entities/job-metric.entity.js';
import { Job } from './entities/job.entity.js';
import { isTerminal, outcomeOfAttempt, type EndReason, type JobStatus } from './job-state.js';
import { BILLING_PORT, COMPUTE_PORT, DATASET_PORT, type BillingPort, type ComputePort, type DatasetPort, type SettleAttemptInput } from './jobs.ports.js';
import { JobsService, insertJobEvents, jobEventsSubject } from './jobs.service.js';
import { QueueSignal } from './queue-signal.js';
import { TickBatcher } from '../../core/batching/tick-batcher.js';
import { isAttemptCheckpointKey, isJobObjectKey } from '../attempt-access/attempt-object-keys.js';

/** A stable row id for the n-th item of an attempt's event, so a redelivered event inserts nothing twice. */
function eventRowId(attemptId: string, eventSeq: number, index = 0): string {
  const hex = createHash('sha256').update(`${attemptId}:${eventSeq}:${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** How the agent's exit maps onto the attempt's end reason (see the protocol's finished event). */
export function endReasonOf(event: Pick<FinishedEvent, 'exitReason' | 'cancelReason'>): EndReason {
  switch (event.exitReason) {
    case 'completed':
      return 'completed';
    case 'preempted':
      return 'preempted';
    case 'max_duration_exceeded':
      return 'max_duration';
    case 'budget_exhausted':
      return 'budget_exhausted';
    case 'error':
      return 'error';
    case 'canceled':
      if (event.cancelReason === 'budget_exhausted') return 'budget_exhausted';
      if (event.cancelReason === 'max_duration_exceeded') return 'max_duration';
      if (event.cancelReason === 'rescheduled') return 'preempted';
      return 'user_canceled';
  }
}

/** An attempt to end, with what its machine said (`finished`) or why the platform ends it. */
export interface AttemptEnding {
  attemptId: string;
  reason: EndReason;
  message?: string;
  /** The job's final artifacts (a completed attempt): recorded on the job. */
  artifactKeys?: string[];
}

/** An attempt `endAttempts` ended, with its job as it stood, and whether the job is over. */
interface EndedAttempt {
  attempt: Attempt;
  job: Job;
  reason: EndReason;
  terminal: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An attempt from its first event to its settlement: what each agent event does to the job, how
 * an attempt ends (completed, lost, preempted, canceled, budget) and what that means for the job,
 * and the settlement of the metered seconds, which happens after the state change commits.
 */
@Injectable()
export class AttemptLifecycle {
  private readonly stopsSent = new Set<string>();
  private readonly notes = new TickBatcher<string, JobEvent, void>((rows) => this.writeNotes([...rows.values()]));
  private readonly starts = new TickBatcher<string, string, Map<string, Date>>((runners) => this.startMany(runners));
  /** The attempts named by the events of one tick, read in one query. */
  private readonly lookups = new TickBatcher<string, string, Map<string, Attempt>>(async (ids) => {
    const valid = [...ids.keys()].filter((id) => UUID.test(id));
    const rows = valid.length > 0 ? await this.dataSource.manager.findBy(Attempt, { id: In(valid) }) : [];
    return new Map(rows.map((row) => [row.id, row]));
  });
  /** Machines' instance ids, recorded for all the attempts that reported in the same tick at once. */
  private readonly instances = new TickBatcher<string, string, void>(async (rows) => {
    await this.dataSource.query(
      `UPDATE attempts SET instance_id = r.instance_id FROM unnest($1::uuid[], $2::text[]) AS r(id, instance_id) WHERE attempts.id = r.id AND attempts.instance_id IS NULL`,
      [[...rows.keys()], [...rows.values()]],
    );
  });
  /** Attempts whose `finished` arrived in the same tick end together. */
  private readonly finishes = new TickBatcher<string, AttemptEnding, Map<string, unknown>>((endings) => this.endAttempts([...endings.values()]));
  /** What the jobs asked about in one tick have been charged so far (each provision of a round asks). */
  private readonly spending = new TickBatcher<string, string, Map<string, bigint>>((jobIds) => this.spentMicrosMany([...jobIds.keys()]));

  constructor(
    private readonly dataSource: DataSource,
    private readonly jobs: JobsService,
    private readonly outbox: OutboxService,
    private readonly nats: NatsService,
    private readonly benchmarks: BenchmarksService,
    @Inject(COMPUTE_PORT) private readonly compute: ComputePort,
    @Inject(BILLING_PORT) private readonly billing: BillingPort,
    @Inject(DATASET_PORT) private readonly datasets: DatasetPort,
    private readonly queue: QueueSignal,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Applies one verified agent event. Idempotent: a redelivered event changes nothing. */
  async handle(event: AttemptEvent): Promise<void> {
    const attempt = (await this.lookups.add(event.attemptId, event.attemptId)).get(event.attemptId);
    if (!attempt || (attempt.nodeId !== null && attempt.nodeId !== event.nodeId)) {
      this.logger.warn({ attemptId: event.attemptId, nodeId: event.nodeId }, 'attempt event for an unknown attempt or from another node; dropped');
      return;
    }
    switch (event.type) {
      case 'accepted':
        // The scheduler records the instance when its provision call returns; this covers a
        // replica that stopped before it could (the id of a community instance is node/attempt; a
        // cloud machine's id comes only from its provider).
        if (attempt.instanceId === null && attempt.nodeId !== null && attempt.providerKind === 'community') {
          await this.recordInstance(attempt.id, communityInstanceId(attempt.nodeId, attempt.id));
        }
        return this.note(attempt, event.eventSeq, 'accepted', 'The machine accepted the attempt and is preparing it.');
      case 'rejected':
        // The provider adapter turns a rejection into a typed error for the scheduler, which fails over.
        return this.note(attempt, event.eventSeq, 'rejected', `The machine declined: ${event.message}`);
      case 'started':
        return this.started(attempt, event.runnerName);
      case 'step':
        await this.dataSource
          .createQueryBuilder()
          .insert()
          .into(JobMetric)
          .values({ id: eventRowId(attempt.id, event.eventSeq), jobId: attempt.jobId, attemptId: attempt.id, at: this.clock.now(), step: event.step, loss: event.loss, stepTimeMs: event.stepTimeMs, gpuUtilizationPct: event.gpuUtilizationPct })
          .orIgnore()
          .execute();
        await this.live(attempt.jobId, { kind: 'metric', step: event.step, loss: event.loss, stepTimeMs: event.stepTimeMs, gpuUtilizationPct: event.gpuUtilizationPct });
        return;
      case 'log': {
        const lines = event.lines ?? [event.line];
        const now = this.clock.now();
        const base = BigInt(attempt.number) * 10_000_000_000n + BigInt(event.eventSeq) * 1000n;
        await this.dataSource
          .createQueryBuilder()
          .insert()
          .into(JobLog)
          .values(lines.map((line, i) => ({ id: eventRowId(attempt.id, event.eventSeq, i), jobId: attempt.jobId, attemptId: attempt.id, seq: (base + BigInt(i)).toString(), at: now, stream: event.stream, line })))
          .orIgnore()
          .execute();
        await this.live(attempt.jobId, { kind: 'logs', lines: lines.slice(-50), stream: event.stream });
        return;
      }
      case 'validation':
        return this.note(attempt, event.eventSeq, 'validation', `Validation at step ${event.step}: ${event.promptCount} prompts, ${Math.round(event.timePerPromptMs)} ms each.`, {
          step: event.step,
          promptCount: event.promptCount,
          timePerPromptMs: event.timePerPromptMs,
        });
      case 'checkpoint':
        // Keys come from the node: only one of this attempt's own checkpoint slots is recorded, or a
        // node could point the job's resume (and its download links) at another customer's object.
        if (!isAttemptCheckpointKey({ orgId: attempt.orgId, jobId: attempt.jobId, id: attempt.id }, event.key)) {
          this.logger.warn({ attemptId: attempt.id, nodeId: event.nodeId }, "checkpoint event names a key outside the attempt's checkpoint slots; ignored");
          return;
        }
        await this.dataSource.manager.update(Job, { id: attempt.jobId }, { lastCheckpointKey: event.key });
        return this.note(attempt, event.eventSeq, 'checkpoint', `Checkpoint saved at step ${event.step}${event.reason && event.reason !== 'interval' ? ` (${event.reason.replace(/_/g, ' ')})` : ''}.`, { step: event.step, key: event.key, sizeBytes: event.sizeBytes });
      case 'finished': {
        const artifactKeys = event.exitReason === 'completed' ? event.artifactKeys.filter((key) => isJobObjectKey(attempt.orgId, attempt.jobId, key)) : undefined;
        if (artifactKeys && artifactKeys.length !== event.artifactKeys.length) {
          this.logger.warn({ attemptId: attempt.id, nodeId: event.nodeId }, "finished event names artifact keys outside the job's storage; those are ignored");
        }
        const failure = (await this.finishes.add(attempt.id, { attemptId: attempt.id, reason: endReasonOf(event), message: event.message ?? undefined, artifactKeys })).get(attempt.id);
        if (failure) throw failure;
        return;
      }
      case 'benchmark_sample':
        // Forwarded without any id: the sample carries none, and the subject names no attempt.
        await this.dataSource.transaction((manager) => this.outbox.enqueue(manager, benchmarkSamplesSubject(this.nats.prefix), { ...event.sample }, { jetstream: true }));
        return;
    }
  }

  /** Records the machine's instance id where none is recorded yet (batched per tick). */
  recordInstance(attemptId: string, instanceId: string): Promise<void> {
    return this.instances.add(attemptId, instanceId);
  }

  private async note(attempt: Attempt, eventSeq: number, type: string, message: string, data: Record<string, unknown> = {}): Promise<void> {
    const id = eventRowId(attempt.id, eventSeq, 999);
    await this.notes.add(id, { id, jobId: attempt.jobId, attemptId: attempt.id, at: this.clock.now(), type, fromStatus: null, toStatus: null, message, data });
  }

  /** The notes of one tick (many attempts' events at once) in one transaction. A redelivered event inserts nothing and announces nothing. */
  private async writeNotes(rows: readonly JobEvent[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const fresh = new Set(await insertJobEvents(manager, rows, { onConflictDoNothing: true }));
      await this.outbox.enqueueMany(
        manager,
        rows.filter((row) => fresh.has(row.id)).map((row) => ({ subject: jobEventsSubject(this.nats.prefix, row.jobId), payload: { kind: 'event', event: { type: row.type, message: row.message, data: row.data, attemptId: row.attemptId } } })),
      );
    });
  }


  private async live(jobId: string, payload: Record<string, unknown>): Promise<void> {
    // Live-only updates (metrics, log tails) go straight to subscribers: losing one costs nothing,
    // the rows are already stored.
    this.nats.connection.publish(jobEventsSubject(this.nats.prefix, jobId), new TextEncoder().encode(JSON.stringify(payload)));
  }

  private async started(attempt: Attempt, runnerName: string): Promise<void> {
    const started = await this.starts.add(attempt.id, runnerName);
    // The provisioning overhead of this provider kind feeds the estimates (no ids: kind and seconds only).
    const runningAt = started.get(attempt.id);
    if (runningAt) this.benchmarks.recordProvisioning(attempt.providerKind, (runningAt.getTime() - attempt.createdAt.getTime()) / 1000);
  }

  /**
   * The attempts whose `started` arrived in the same tick begin running together: locked in id
   * order (attempt, then job, as everywhere), moved only where both are still provisioning, then
   * one update each and the jobs' transitions in one batch. Returns when each began.
   */
  private async startMany(runners: ReadonlyMap<string, string>): Promise<Map<string, Date>> {
    const now = this.clock.now();
    return this.dataSource.transaction(async (manager) => {
      const locked: { id: string; job_id: string }[] = await manager.query(
        `SELECT id, job_id FROM attempts WHERE id = ANY($1::uuid[]) AND status = 'provisioning' ORDER BY id FOR UPDATE`,
        [[...runners.keys()]],
      );
      if (locked.length === 0) return new Map();
      const jobs = await manager
        .createQueryBuilder(Job, 'j')
        .where("j.id IN (:...ids) AND j.status = 'provisioning'", { ids: locked.map((a) => a.job_id) })
        .orderBy('j.id')
        .setLock('pessimistic_write')
        .getMany();
      const byId = new Map(jobs.map((job) => [job.id, job]));
      const moving = locked.filter((a) => byId.has(a.job_id));
      if (moving.length === 0) return new Map();
      await manager.query(`UPDATE attempts SET status = 'running', running_at = $2, last_seen_at = $2 WHERE id = ANY($1::uuid[])`, [moving.map((a) => a.id), now]);
      await manager.query(`UPDATE jobs SET started_at = COALESCE(started_at, $2), attempt_count = attempt_count + 1, wait_reason = NULL WHERE id = ANY($1::uuid[])`, [moving.map((a) => a.job_id), now]);
      await this.jobs.transitionMany(
        manager,
        moving.map((a) => {
          const runner = runners.get(a.id) ?? 'runner';
          return { job: byId.get(a.job_id)!, to: 'running' as const, message: `Training started (${runner}); billing by the second from now.`, data: { runner }, attemptId: a.id };
        }),
      );
      return new Map(moving.map((a) => [a.id, now]));
    });
  }


  /**
   * The machine could not be started (refused, no answer, provider error): the attempt ends
   * unbilled, the node is freed, and the job goes back to the queue at once with the reason, so
   * the next round matches it again (that offer skipped).
   */
  async provisioningFailed(attemptId: string, reason: EndReason, message: string): Promise<void> {
    const now = this.clock.now();
    let nodeId: string | null = null;
    await this.dataSource.transaction(async (manager) => {
      const attempt = await manager.findOne(Attempt, { where: { id: attemptId }, lock: { mode: 'pessimistic_write' } });
      if (!attempt || attempt.status === 'ended') return;
      nodeId = attempt.nodeId;
      await manager.update(Attempt, { id: attemptId }, { status: 'ended', endReason: reason, endedAt: now, billableSeconds: 0 });
      const job = await manager.findOne(Job, { where: { id: attempt.jobId }, lock: { mode: 'pessimistic_write' } });
      if (job?.status !== 'provisioning') return;
      const detail = `${message}; matching another offer.`;
      await this.jobs.transition(manager, job, 'queued', detail, { endReason: reason }, attemptId);
      await manager.update(Job, { id: job.id }, { nextAttemptAt: now, waitReason: detail, updatedAt: now });
    });
    if (nodeId) await this.compute.releaseNodes([{ nodeId, attemptId }]).catch((error: unknown) => this.logger.warn({ err: error }, 'releasing the node failed'));
    this.queue.raise();
  }

  /** Ends a live attempt and moves its job on: succeeded, requeued, or ended. Settles after commit. */
  async endAttempt(attemptId: string, reason: EndReason, message?: string, artifactKeys?: string[]): Promise<void> {
    const failure = (await this.endAttempts([{ attemptId, reason, message, artifactKeys }])).get(attemptId);
    if (failure) throw failure;
  }

  /**
   * Ends live attempts together (one transaction, set-based statements; an attempt already ended
   * is left alone), then frees their nodes together and settles them in one ledger transaction.
   * Should the batch fail, each attempt is ended alone, so one attempt's error stays its own.
   * Returns the errors by attempt (none: all ended).
   */
  async endAttempts(endings: readonly AttemptEnding[]): Promise<Map<string, unknown>> {
    const failures = new Map<string, unknown>();
    if (endings.length === 0) return failures;
    let ended: EndedAttempt[];
    try {
      ended = await this.endTogether(endings);
    } catch (error) {
      if (endings.length === 1) return failures.set(endings[0]!.attemptId, error);
      ended = [];
      for (const ending of endings) {
        try {
          ended.push(...(await this.endTogether([ending])));
        } catch (failure) {
          failures.set(ending.attemptId, failure);
        }
      }
    }
    await this.afterEnding(ended);
    return failures;
  }

  /**
   * The state change of `endAttempts`: attempts locked in id order, then their jobs (attempt, then
   * job, as everywhere), each job moved by its attempt's outcome, in one transaction.
   */
  private async endTogether(endings: readonly AttemptEnding[]): Promise<EndedAttempt[]> {
    const wanted = new Map(endings.map((ending) => [ending.attemptId, ending]));
    return this.dataSource.transaction(async (manager) => {
      const locked = await manager
        .createQueryBuilder(Attempt, 'a')
        .where("a.id IN (:...ids) AND a.status <> 'ended'", { ids: [...wanted.keys()] })
        .orderBy('a.id')
        .setLock('pessimistic_write')
        .getMany();
      if (locked.length === 0) return [];
      const now = this.clock.now();
      const jobs = await manager
        .createQueryBuilder(Job, 'j')
        .where('j.id IN (:...ids)', { ids: [...new Set(locked.map((a) => a.jobId))] })
        .orderBy('j.id')
        .setLock('pessimistic_write')
        .getMany();
      const jobById = new Map(jobs.map((job) => [job.id, job]));
      const attempts = locked.filter((attempt) => jobById.has(attempt.jobId));
      if (attempts.length === 0) return [];
      await manager.query(`UPDATE attempts SET status = 'ended', end_reason = e.reason, ended_at = $2 FROM unnest($1::uuid[], $3::text[]) AS e(id, reason) WHERE attempts.id = e.id`, [
        attempts.map((a) => a.id),
        now,
        attempts.map((a) => wanted.get(a.id)!.reason),
      ]);
      const ranRows: { job_id: string; n: number }[] = await manager.query(
        'SELECT job_id, count(*)::int AS n FROM attempts WHERE job_id = ANY($1::uuid[]) AND running_at IS NOT NULL GROUP BY job_id',
        [jobs.map((job) => job.id)],
      );
      const ranBefore = new Map(ranRows.map((row) => [row.job_id, row.n]));
      const ended: EndedAttempt[] = [];
      const uploads: Parameters<JobsService['transitionMany']>[1][number][] = [];
      const moves: Parameters<JobsService['transitionMany']>[1][number][] = [];
      const updates: { jobId: string; terminal: boolean; detail: string; artifactKeys: string[] | null }[] = [];
      for (const attempt of attempts) {
        const job = jobById.get(attempt.jobId)!;
        const { reason, message, artifactKeys } = wanted.get(attempt.id)!;
        if (isTerminal(job.status)) {
          ended.push({ attempt, job, reason, terminal: true });
          continue;
        }
        let outcome = outcomeOfAttempt(reason, ranBefore.get(job.id) ?? 0, job.maxAttempts);
        if (job.cancelRequestedAt && reason !== 'completed') outcome = { jobStatus: 'canceled', requeue: false, message: 'Canceled by the user; the machine stopped after a final checkpoint.' };
        // A machine that never started training used none of the job's attempts.
        if (!attempt.runningAt && (reason === 'node_lost' || reason === 'error') && !job.cancelRequestedAt) {
          outcome = { jobStatus: 'queued', requeue: true, message: `${message ?? 'The machine failed before training started'}; matching another offer.` };
        }
        const detail = message && outcome.jobStatus !== 'queued' ? `${outcome.message} ${message}` : outcome.message;
        if (outcome.jobStatus === 'succeeded' && job.status === 'running') uploads.push({ job, to: 'uploading', message: 'Uploading the final artifacts.', attemptId: attempt.id });
        moves.push({ job, to: outcome.jobStatus, message: detail, data: { endReason: reason }, attemptId: attempt.id });
        const terminal = isTerminal(outcome.jobStatus as JobStatus);
        updates.push({ jobId: job.id, terminal, detail, artifactKeys: artifactKeys ?? null });
        ended.push({ attempt, job, reason, terminal });
      }
      await this.jobs.transitionMany(manager, uploads);
      await this.jobs.transitionMany(manager, moves);
      if (updates.length > 0) {
        // A job that is over records when and why; one that goes on waits to be matched at once.
        // Its runtime: the seconds all its attempts trained.
        await manager.query(
          `UPDATE jobs SET finished_at = CASE WHEN u.terminal THEN $2 ELSE jobs.finished_at END,
                           final_message = CASE WHEN u.terminal THEN u.detail ELSE jobs.final_message END,
                           next_attempt_at = CASE WHEN u.terminal THEN jobs.next_attempt_at ELSE $2 END,
                           wait_reason = CASE WHEN u.terminal THEN jobs.wait_reason ELSE u.detail END,
                           artifact_keys = CASE WHEN u.keys IS NULL THEN jobs.artifact_keys ELSE ARRAY(SELECT jsonb_array_elements_text(u.keys)) END,
                           runtime_seconds = (SELECT COALESCE(SUM(EXTRACT(EPOCH FROM (COALESCE(a.ended_at, $2) - a.running_at))), 0)::int
                                                FROM attempts a WHERE a.job_id = jobs.id AND a.running_at IS NOT NULL),
                           updated_at = $2
             FROM unnest($1::uuid[], $3::bool[], $4::text[], $5::jsonb[]) AS u(id, terminal, detail, keys)
            WHERE jobs.id = u.id`,
          [updates.map((u) => u.jobId), now, updates.map((u) => u.terminal), updates.map((u) => u.detail), updates.map((u) => (u.artifactKeys ? JSON.stringify(u.artifactKeys) : null))],
        );
      }
      return ended;
    });
  }

  /** After the commit: the scheduler is woken, the machines freed, the seconds settled, cloud machines deleted. */
  private async afterEnding(ended: readonly EndedAttempt[]): Promise<void> {
    if (ended.length === 0) return;
    if (ended.some((e) => !e.terminal)) this.queue.raise();
    // The machines are freed first; a settlement that fails here is retried by the scheduler's sweep.
    const releases = ended.flatMap(({ attempt }) => (attempt.nodeId ? [{ nodeId: attempt.nodeId, attemptId: attempt.id }] : []));
    await this.compute.releaseNodes(releases).catch((error: unknown) => this.logger.warn({ err: error }, 'releasing the nodes failed'));
    await this.settleMany(ended.map((e) => e.attempt.id)).catch((error: unknown) => this.logger.error({ err: error }, 'settling the attempts failed; the sweep retries'));
    for (const { attempt, reason } of ended) {
      // A cloud machine (its agent may have joined as the attempt's node) is stopped through its adapter.
      if (attempt.providerKind !== 'community' && attempt.instanceId) {
        await this.compute
          .terminate({ providerKind: attempt.providerKind as 'gcp' | 'runpod', offerId: attempt.offerId }, attempt.instanceId, reason === 'user_canceled' ? 'user_canceled' : 'error')
          .catch((error: unknown) => this.logger.warn({ err: error }, 'terminating the machine failed; the sweep retries'));
      }
    }
    // The owner's "delete after training" flag is the dataset's own: the port checks it (once per dataset).
    const finishedWith = new Map(ended.filter((e) => e.terminal && e.reason === 'completed').map((e) => [e.job.datasetId, e.job.id]));
    for (const [datasetId, jobId] of finishedWith) {
      await this.datasets.deleteAfterTraining(datasetId).catch((error: unknown) => this.logger.warn({ err: error, jobId }, 'deleting the dataset after training failed; the retention sweep removes it'));
    }
  }

  /** Posts the attempt's metered seconds to the ledger (idempotent per attempt). */
  async settle(attemptId: string): Promise<void> {
    const failure = (await this.settleMany([attemptId])).get(attemptId);
    if (failure) throw failure;
  }

  /**
   * Posts ended attempts' metered seconds to the ledger, many in one ledger transaction
   * (idempotent per attempt; one attempt's failure is logged and left to the sweep). A job's
   * attempts are settled one after another: each needs what the previous one charged (the budget
   * cap) and the hold it left. Returns the errors by attempt.
   */
  async settleMany(attemptIds: readonly string[]): Promise<Map<string, unknown>> {
    const failures = new Map<string, unknown>();
    if (attemptIds.length === 0) return failures;
    let remaining = await this.dataSource.manager.find(Attempt, {
      where: { id: In([...new Set(attemptIds)]), status: 'ended', billableSeconds: IsNull(), endedAt: Not(IsNull()) },
      order: { endedAt: 'ASC', id: 'ASC' },
    });
    while (remaining.length > 0) {
      const jobsInWave = new Set<string>();
      const wave: Attempt[] = [];
      const later: Attempt[] = [];
      for (const attempt of remaining) {
        if (jobsInWave.has(attempt.jobId)) later.push(attempt);
        else {
          jobsInWave.add(attempt.jobId);
          wave.push(attempt);
        }
      }
      await this.settleWave(wave, failures);
      remaining = later;
    }
    return failures;
  }

  /** Attempts of different jobs, settled together; the charges and next holds are recorded in one transaction. */
  private async settleWave(attempts: readonly Attempt[], failures: Map<string, unknown>): Promise<void> {
    const jobIds = attempts.map((attempt) => attempt.jobId);
    const jobs = new Map((await this.dataSource.manager.findBy(Job, { id: In(jobIds) })).map((job) => [job.id, job]));
    const spent = await this.spentMicrosMany(jobIds);
    const settling = attempts.filter((attempt) => jobs.has(attempt.jobId));
    const inputs: SettleAttemptInput[] = [];
    for (const attempt of settling) {
      const job = jobs.get(attempt.jobId)!;
      // A machine that went silent (lost, or a spot machine its provider reclaimed) is billed up to its last heartbeat.
      const lastHeartbeatAt = (attempt.endReason === 'node_lost' || attempt.endReason === 'preempted') && attempt.nodeId ? await this.compute.lastHeartbeatAt(attempt.nodeId) : null;
      inputs.push({
        orgId: job.orgId,
        jobId: job.id,
        attemptId: attempt.id,
        holdId: job.holdId,
        providerOrgId: attempt.providerOrgId,
        gpuModel: attempt.gpuModel,
        gpuCount: attempt.gpuCount,
        priceMicrosPerGpuHour: attempt.priceMicrosPerGpuHour,
        runningAt: attempt.runningAt,
        endedAt: attempt.endedAt!,
        lastHeartbeatAt,
        endReason: attempt.endReason ?? 'error',
        budgetCapMicros: job.budgetCapMicros === null ? null : job.budgetCapMicros - (spent.get(job.id) ?? 0n),
        continueJob: !isTerminal(job.status),
      });
    }
    const outcomes = await this.billing.settleAttempts(inputs);
    const settled: { attemptId: string; jobId: string; billableSeconds: number; chargedMicros: bigint; nextHoldId: string | null }[] = [];
    outcomes.forEach((outcome, i) => {
      const { attemptId, jobId } = inputs[i]!;
      if (outcome.ok) settled.push({ attemptId, jobId, ...outcome });
      else {
        failures.set(attemptId, outcome.error);
        this.logger.error({ err: outcome.error, attemptId }, 'settling the attempt failed; the sweep retries');
      }
    });
    if (settled.length === 0) return;
    await this.dataSource.transaction(async (manager) => {
      // Jobs locked in id order first, as every transaction that locks several does.
      await manager.query('SELECT 1 FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [settled.map((s) => s.jobId)]);
      await manager.query(
        `UPDATE attempts SET billable_seconds = s.seconds, cost_micros = s.cost FROM unnest($1::uuid[], $2::int[], $3::bigint[]) AS s(id, seconds, cost)
          WHERE attempts.id = s.id AND attempts.billable_seconds IS NULL`,
        [settled.map((s) => s.attemptId), settled.map((s) => s.billableSeconds), settled.map((s) => s.chargedMicros.toString())],
      );
      await manager.query(
        `UPDATE jobs SET cost_micros = (SELECT COALESCE(SUM(a.cost_micros), 0) FROM attempts a WHERE a.job_id = jobs.id), hold_id = COALESCE(s.hold_id, jobs.hold_id)
           FROM unnest($1::uuid[], $2::text[]) AS s(id, hold_id) WHERE jobs.id = s.id`,
        [settled.map((s) => s.jobId), settled.map((s) => s.nextHoldId)],
      );
    });
  }

  /** Tells the machine to stop (cancel, budget cap, max duration) once; the agent checkpoints and reports. */
  async requestStop(attempt: Attempt, reason: 'user_canceled' | 'budget_exhausted' | 'max_duration'): Promise<void> {
    const key = `${attempt.id}:${reason}`;
    if (this.stopsSent.has(key)) return;
    this.stopsSent.add(key);
    // A node (a community host, or the machine a cloud attempt joined as) is told to stop: it
    // checkpoints and reports `finished`, which ends the attempt (and then deletes a cloud machine).
    if (attempt.nodeId) {
      await this.compute.terminate({ providerKind: 'community', offerId: attempt.offerId }, communityInstanceId(attempt.nodeId, attempt.id), reason).catch((error: unknown) => {
        this.stopsSent.delete(key);
        this.logger.warn({ err: error, attemptId: attempt.id }, 'sending the stop failed; will retry');
      });
    }
    // Nothing trains yet (a node that has not taken the assignment, a cloud machine still starting)
    // or no node to tell: the attempt ends here, which frees the node or deletes the machine.
    const endNow = attempt.status === 'provisioning' ? attempt.providerKind !== 'community' || !attempt.instanceId : !attempt.nodeId;
    if (endNow) await this.endAttempt(attempt.id, reason);
  }


  /** Charged so far on the job's ended attempts (the lookups of one tick share one query). */
  async spentMicros(jobId: string): Promise<bigint> {
    return (await this.spending.add(jobId, jobId)).get(jobId) ?? 0n;
  }

  private async spentMicrosMany(jobIds: readonly string[]): Promise<Map<string, bigint>> {
    const rows: { job_id: string; spent: string }[] = await this.dataSource.query(
      'SELECT job_id, COALESCE(SUM(cost_micros), 0)::text AS spent FROM attempts WHERE job_id = ANY($1::uuid[]) GROUP BY job_id',
      [[...new Set(jobIds)]],
    );
    return new Map(rows.map((row) => [row.job_id, BigInt(row.spent)]));
  }

  async lastCheckpointStep(jobId: string): Promise<number> {
    const event = await this.dataSource.manager.findOne(JobEvent, { where: { jobId, type: 'checkpoint' }, order: { at: 'DESC' } });
    const step = event?.data.step;
    return typeof step === 'number' ? step : 0;
  }

  /** A job that can never run (its dataset is gone): failed, its hold released. */
  async failUnplaceable(jobId: string, message: string): Promise<void> {
    const failed = await this.dataSource.transaction(async (manager) => {
      const job = await manager.findOne(Job, { where: { id: jobId }, lock: { mode: 'pessimistic_write' } });
      if (!job || isTerminal(job.status)) return null;
      await this.jobs.transition(manager, job, 'failed', message);
      await manager.update(Job, { id: jobId }, { finishedAt: this.clock.now(), finalMessage: message });
      return job;
    });
    if (failed) await this.billing.releaseJobHold(jobId, failed.holdId);
  }
}
