import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { benchmarkSamplesSubject, communityInstanceId, type AttemptEvent, type FinishedEvent } from '@anneal/providers';
import type { Logger } from 'pino';
import { DataSource, IsNull, Not } from 'typeorm';
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
import { BILLING_PORT, COMPUTE_PORT, DATASET_PORT, type BillingPort, type ComputePort, type DatasetPort } from './jobs.ports.js';
import { JobsService, jobEventsSubject } from './jobs.service.js';
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
    const attempt = await this.dataSource.manager.findOneBy(Attempt, { id: event.attemptId });
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
          await this.dataSource.manager.update(Attempt, { id: attempt.id, instanceId: IsNull() }, { instanceId: communityInstanceId(attempt.nodeId, attempt.id) });
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
        await this.endAttempt(attempt.id, endReasonOf(event), event.message ?? undefined, artifactKeys);
        return;
      }
      case 'benchmark_sample':
        // Forwarded without any id: the sample carries none, and the subject names no attempt.
        await this.dataSource.transaction((manager) => this.outbox.enqueue(manager, benchmarkSamplesSubject(this.nats.prefix), { ...event.sample }, { jetstream: true }));
        return;
    }
  }

  private async note(attempt: Attempt, eventSeq: number, type: string, message: string, data: Record<string, unknown> = {}): Promise<void> {
    const id = eventRowId(attempt.id, eventSeq, 999);
    await this.notes.add(id, { id, jobId: attempt.jobId, attemptId: attempt.id, at: this.clock.now(), type, fromStatus: null, toStatus: null, message, data });
  }

  /** The notes of one tick (many attempts' events at once) in one transaction. A redelivered event inserts nothing and announces nothing. */
  private async writeNotes(rows: readonly JobEvent[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const inserted = await manager.createQueryBuilder().insert().into(JobEvent).values(rows as never).orIgnore().returning('id').execute();
      const fresh = new Set((inserted.raw as { id: string }[]).map((row) => row.id));
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
    if (nodeId) await this.compute.releaseNode(nodeId, attemptId).catch((error: unknown) => this.logger.warn({ err: error }, 'releasing the node failed'));
    this.queue.raise();
  }

  /** Ends a live attempt and moves its job on: succeeded, requeued, or ended. Settles after commit. */
  async endAttempt(attemptId: string, reason: EndReason, message?: string, artifactKeys?: string[]): Promise<void> {
    const ended = await this.dataSource.transaction(async (manager) => {
      const attempt = await manager.findOne(Attempt, { where: { id: attemptId }, lock: { mode: 'pessimistic_write' } });
      if (!attempt || attempt.status === 'ended') return null;
      const now = this.clock.now();
      const job = await manager.findOne(Job, { where: { id: attempt.jobId }, lock: { mode: 'pessimistic_write' } });
      if (!job) return null;
      await manager.update(Attempt, { id: attemptId }, { status: 'ended', endReason: reason, endedAt: now });
      const ranBefore = await manager.countBy(Attempt, { jobId: job.id, runningAt: Not(IsNull()) });
      let outcome = outcomeOfAttempt(reason, ranBefore, job.maxAttempts);
      if (job.cancelRequestedAt && reason !== 'completed') outcome = { jobStatus: 'canceled', requeue: false, message: 'Canceled by the user; the machine stopped after a final checkpoint.' };
      // A machine that never started training used none of the job's attempts.
      if (!attempt.runningAt && (reason === 'node_lost' || reason === 'error') && !job.cancelRequestedAt) {
        outcome = { jobStatus: 'queued', requeue: true, message: `${message ?? 'The machine failed before training started'}; matching another offer.` };
      }
      if (isTerminal(job.status)) return { attempt, job, terminal: true };
      const detail = message && outcome.jobStatus !== 'queued' ? `${outcome.message} ${message}` : outcome.message;
      if (outcome.jobStatus === 'succeeded' && job.status === 'running') await this.jobs.transition(manager, job, 'uploading', 'Uploading the final artifacts.', {}, attemptId);
      await this.jobs.transition(manager, job, outcome.jobStatus, detail, { endReason: reason }, attemptId);
      const terminal = isTerminal(outcome.jobStatus as JobStatus);
      const runtime = await manager.query(
        `SELECT COALESCE(SUM(EXTRACT(EPOCH FROM (COALESCE(ended_at, $2) - running_at))), 0)::int AS seconds FROM attempts WHERE job_id = $1 AND running_at IS NOT NULL`,
        [job.id, now],
      );
      await manager.update(Job, { id: job.id }, {
        ...(terminal ? { finishedAt: now, finalMessage: detail } : { nextAttemptAt: now, waitReason: detail }),
        ...(artifactKeys ? { artifactKeys } : {}),
        runtimeSeconds: runtime[0]?.seconds ?? null,
        updatedAt: now,
      });
      return { attempt, job, terminal };
    });
    if (!ended) return;
    if (!ended.terminal) this.queue.raise();
    // The machine is freed first; a settlement that fails here is retried by the scheduler's sweep.
    if (ended.attempt.nodeId) await this.compute.releaseNode(ended.attempt.nodeId, attemptId).catch((error: unknown) => this.logger.warn({ err: error }, 'releasing the node failed'));
    await this.settle(attemptId).catch((error: unknown) => this.logger.error({ err: error, attemptId }, 'settling the attempt failed; the sweep retries'));
    // A cloud machine (its agent may have joined as the attempt's node) is stopped through its adapter.
    if (ended.attempt.providerKind !== 'community' && ended.attempt.instanceId) {
      await this.compute
        .terminate({ providerKind: ended.attempt.providerKind as 'gcp' | 'runpod', offerId: ended.attempt.offerId }, ended.attempt.instanceId, reason === 'user_canceled' ? 'user_canceled' : 'error')
        .catch((error: unknown) => this.logger.warn({ err: error }, 'terminating the machine failed; the sweep retries'));
    }
    // The owner's "delete after training" flag is the dataset's own: the port checks it.
    if (ended.terminal && reason === 'completed') {
      await this.datasets.deleteAfterTraining(ended.job.datasetId).catch((error: unknown) => this.logger.warn({ err: error, jobId: ended.job.id }, 'deleting the dataset after training failed; the retention sweep removes it'));
    }
  }

  /** Posts the attempt's metered seconds to the ledger (idempotent per attempt). */
  async settle(attemptId: string): Promise<void> {
    const attempt = await this.dataSource.manager.findOneBy(Attempt, { id: attemptId });
    if (!attempt || attempt.status !== 'ended' || attempt.billableSeconds !== null || !attempt.endedAt) return;
    const job = await this.dataSource.manager.findOneBy(Job, { id: attempt.jobId });
    if (!job) return;
    const lastHeartbeatAt = attempt.endReason === 'node_lost' && attempt.nodeId ? await this.compute.lastHeartbeatAt(attempt.nodeId) : null;
    const spentBefore = await this.spentMicros(job.id);
    const result = await this.billing.settleAttempt({
      orgId: job.orgId,
      jobId: job.id,
      attemptId: attempt.id,
      holdId: job.holdId,
      providerOrgId: attempt.providerOrgId,
      gpuModel: attempt.gpuModel,
      gpuCount: attempt.gpuCount,
      priceMicrosPerGpuHour: attempt.priceMicrosPerGpuHour,
      runningAt: attempt.runningAt,
      endedAt: attempt.endedAt,
      lastHeartbeatAt,
      endReason: attempt.endReason ?? 'error',
      budgetCapMicros: job.budgetCapMicros === null ? null : job.budgetCapMicros - spentBefore,
      continueJob: !isTerminal(job.status),
    });
    await this.dataSource.transaction(async (manager) => {
      await manager.update(Attempt, { id: attemptId, billableSeconds: IsNull() }, { billableSeconds: result.billableSeconds, costMicros: result.chargedMicros });
      await manager.query('UPDATE jobs SET cost_micros = (SELECT COALESCE(SUM(cost_micros), 0) FROM attempts WHERE job_id = $1) WHERE id = $1', [job.id]);
      if (result.nextHoldId) await manager.update(Job, { id: job.id }, { holdId: result.nextHoldId });
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


  /** Charged so far on the job's ended attempts. */
  async spentMicros(jobId: string): Promise<bigint> {
    const [row] = await this.dataSource.query('SELECT COALESCE(SUM(cost_micros), 0)::text AS spent FROM attempts WHERE job_id = $1', [jobId]);
    return BigInt(row?.spent ?? '0');
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
