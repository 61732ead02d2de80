import { estimateStepTime, lookupGpu, prepareJob, recipeKey } from '@anneal/benchmarks';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { BenchmarkSnapshotService } from '../benchmarks/benchmark-snapshot.service.js';
import type { Attempt } from '../jobs/entities/attempt.entity.js';
import type { Job } from '../jobs/entities/job.entity.js';
import { heartbeatGaps, stepTimeStats, telemetryGpu, telemetrySummary, type DisputeEvidence, type TelemetryPoint } from './dispute-evidence.js';

/** State history this long before and after the attempt is kept for context. */
const CONTEXT_MS = 10 * 60_000;
const LOG_LINES = 50;
const MAX_EVENTS = 500;
const MAX_TELEMETRY = 1_440;

/**
 * Gathers a disputed attempt's evidence from the rows the system keeps: node state history,
 * registration and telemetry, step metrics against the benchmark for the job's key, the job's
 * events and last log lines, and the ledger lines the attempt produced. Reads only.
 */
@Injectable()
export class DisputeEvidenceService {
  constructor(
    private readonly snapshots: BenchmarkSnapshotService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async assemble(manager: EntityManager, job: Job, attempt: Attempt): Promise<DisputeEvidence> {
    const now = this.clock.now();
    const start = attempt.runningAt ?? attempt.createdAt;
    const end = attempt.endedAt ?? now;
    const windowFrom = new Date(start.getTime() - CONTEXT_MS);
    const windowTo = new Date(end.getTime() + CONTEXT_MS);

    const node = attempt.nodeId
      ? ((await manager.query('SELECT gpu_model_id, gpu_name, gpu_count, vram_mb, gpus FROM nodes WHERE id = $1', [attempt.nodeId])) as {
          gpu_model_id: string | null;
          gpu_name: string;
          gpu_count: number;
          vram_mb: number | null;
          gpus: { index: number; name: string; vramTotalMb: number | null }[];
        }[])[0]
      : undefined;

    const stateRows: { at: Date; from_state: string | null; to_state: string; reason: string }[] = attempt.nodeId
      ? await manager.query(
          `(SELECT at, from_state, to_state, reason FROM node_state_events WHERE node_id = $1 AND at < $2 ORDER BY at DESC, id DESC LIMIT 1)
           UNION ALL
           (SELECT at, from_state, to_state, reason FROM node_state_events WHERE node_id = $1 AND at >= $2 AND at <= $3 ORDER BY at, id LIMIT ${MAX_EVENTS})
           ORDER BY at`,
          [attempt.nodeId, windowFrom, windowTo],
        )
      : [];
    const { gaps, offlineBeforeEndSeconds } = attempt.nodeId ? heartbeatGaps(stateRows.map((r) => ({ at: r.at, toState: r.to_state })), start, end) : { gaps: [], offlineBeforeEndSeconds: null };

    const telemetryRows: { at: Date; gpus: unknown[] }[] = attempt.nodeId
      ? await manager.query(`SELECT at, gpus FROM node_telemetry WHERE node_id = $1 AND at >= $2 AND at <= $3 ORDER BY at LIMIT ${MAX_TELEMETRY}`, [attempt.nodeId, new Date(start.getTime() - 60_000), end])
      : [];
    const samples: TelemetryPoint[] = telemetryRows.map((row) => ({ at: row.at.toISOString(), gpus: (Array.isArray(row.gpus) ? row.gpus : []).map((g, i) => telemetryGpu(g, i)) }));

    const metricRows: { step_time_ms: number }[] = await manager.query('SELECT step_time_ms FROM job_metrics WHERE attempt_id = $1 AND step_time_ms IS NOT NULL', [attempt.id]);
    const measured = stepTimeStats(metricRows.map((r) => Number(r.step_time_ms)));
    const benchmark = this.benchmarkFor(job, attempt);

    const events: { at: Date; type: string; from_status: string | null; to_status: string | null; message: string }[] = await manager.query(
      `SELECT at, type, from_status, to_status, message FROM job_events WHERE job_id = $1 AND (attempt_id = $2 OR attempt_id IS NULL) AND at <= $3 ORDER BY at, id LIMIT ${MAX_EVENTS}`,
      [job.id, attempt.id, windowTo],
    );
    const logs: { at: Date; stream: string; line: string }[] = await manager.query(
      `SELECT at, stream, line FROM (SELECT at, stream, line, seq FROM job_logs WHERE attempt_id = $1 ORDER BY seq DESC LIMIT ${LOG_LINES}) l ORDER BY seq`,
      [attempt.id],
    );

    const usage = ((await manager.query('SELECT provider_org_id, cost_micros::text AS cost, charged_micros::text AS charged FROM ledger_usage_records WHERE attempt_id = $1', [attempt.id])) as {
      provider_org_id: string;
      cost: string;
      charged: string;
    }[])[0];
    const ledgerRows: { id: string; code: string; amount: string; debit_kind: string | null; credit_kind: string | null; created_at: Date }[] = await manager.query(
      `SELECT t.id, t.code, t.amount::text AS amount, d.kind AS debit_kind, c.kind AS credit_kind, t.created_at
         FROM ledger_transfers t
         LEFT JOIN ledger_accounts d ON d.id = t.debit_account_id
         LEFT JOIN ledger_accounts c ON c.id = t.credit_account_id
        WHERE t.attempt_id = $1 ORDER BY t.seq`,
      [attempt.id],
    );
    const sumOf = (code: string) => ledgerRows.filter((r) => r.code === code).reduce((sum, r) => sum + BigInt(r.amount), 0n);

    const reportedModelId = node?.gpu_model_id ?? null;
    const reportedName = node?.gpu_name ?? null;
    return {
      version: 1,
      assembledAt: now.toISOString(),
      attempt: {
        id: attempt.id,
        jobId: attempt.jobId,
        number: attempt.number,
        providerKind: attempt.providerKind,
        nodeId: attempt.nodeId,
        status: attempt.status,
        endReason: attempt.endReason,
        createdAt: attempt.createdAt.toISOString(),
        runningAt: attempt.runningAt?.toISOString() ?? null,
        endedAt: attempt.endedAt?.toISOString() ?? null,
        lastSeenAt: attempt.lastSeenAt?.toISOString() ?? null,
      },
      gpu: {
        offeredModel: attempt.gpuModel,
        offeredCount: attempt.gpuCount,
        reportedModelId,
        reportedName,
        reportedCount: node?.gpu_count ?? null,
        reportedVramMb: node?.vram_mb ?? null,
        registeredGpus: (node?.gpus ?? []).map((g) => ({ index: g.index, name: g.name, vramTotalMb: g.vramTotalMb ?? null })),
        matches: node ? sameGpu(attempt.gpuModel, reportedModelId ?? reportedName ?? '') : null,
      },
      heartbeats: {
        windowFrom: windowFrom.toISOString(),
        windowTo: windowTo.toISOString(),
        events: stateRows.map((r) => ({ at: r.at.toISOString(), fromState: r.from_state, toState: r.to_state, reason: r.reason })),
        gaps,
        offlineBeforeEndSeconds,
      },
      telemetry: { samples, summary: telemetrySummary(samples) },
      stepTime: {
        measured,
        benchmark,
        ratioToP90: measured && benchmark && benchmark.p90Ms > 0 ? Math.round((measured.meanMs / benchmark.p90Ms) * 100) / 100 : null,
      },
      events: events.map((e) => ({ at: e.at.toISOString(), type: e.type, fromStatus: e.from_status, toStatus: e.to_status, message: e.message })),
      logs: logs.map((l) => ({ at: l.at.toISOString(), stream: l.stream, line: l.line })),
      metering: {
        billableSeconds: attempt.billableSeconds,
        priceMicrosPerGpuHour: attempt.priceMicrosPerGpuHour.toString(),
        gpuCount: attempt.gpuCount,
        costMicros: usage?.cost ?? '0',
        chargedMicros: usage?.charged ?? attempt.costMicros.toString(),
        providerShareMicros: sumOf('provider_share').toString(),
        platformFeeMicros: sumOf('platform_fee').toString(),
        providerLedgerOrgId: usage?.provider_org_id ?? null,
      },
      ledger: ledgerRows.map((r) => ({ id: r.id, code: r.code, amountMicros: r.amount, debitAccount: r.debit_kind ?? 'unknown', creditAccount: r.credit_kind ?? 'unknown', at: r.created_at.toISOString() })),
    };
  }

  /** The benchmark's step time for the job's key on the attempt's hardware, from the live snapshot. */
  private benchmarkFor(job: Job, attempt: Attempt): DisputeEvidence['stepTime']['benchmark'] {
    try {
      const gpu = lookupGpu(attempt.gpuModel);
      if (gpu.kind === 'unknown') return null;
      const r = job.recipe;
      const prepared = prepareJob({
        recipe: {
          modelId: r.baseModelId,
          method: r.method,
          precision: r.precision,
          quantization: r.quantization,
          seqLen: r.sequenceLength,
          resolution: r.imageResolution,
          batchSize: r.batchSize,
          gradAccum: r.gradientAccumulation,
        },
        steps: job.steps,
      });
      if (!prepared.ok) return null;
      const estimate = estimateStepTime(recipeKey(prepared.value.recipe, gpu.gpu.id, attempt.gpuCount), this.snapshots.snapshot);
      return { p50Ms: round1(estimate.p50Ms), p90Ms: round1(estimate.p90Ms), basis: estimate.basis, basisText: estimate.basisText, sampleCount: estimate.sampleCount };
    } catch (error) {
      this.logger.warn({ err: error, attemptId: attempt.id }, 'no benchmark estimate for the disputed attempt');
      return null;
    }
  }
}

/** Whether two GPU names (catalog ids or driver names) are the same model. */
export function sameGpu(offered: string, reported: string): boolean {
  const a = lookupGpu(offered);
  const b = lookupGpu(reported);
  if (a.kind === 'known' && b.kind === 'known') return a.gpu.id === b.gpu.id;
  return offered.trim().toLowerCase() === reported.trim().toLowerCase();
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
