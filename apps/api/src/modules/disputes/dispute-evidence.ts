/**
 * The evidence bundle of a dispute: what the system knew about the attempt when the dispute was
 * opened, frozen as jsonb so later changes (retention, deletions) never alter what was judged.
 * The helpers here are pure; `DisputeEvidenceCollector` gathers the rows.
 */

export interface HeartbeatEvent {
  at: string;
  fromState: string | null;
  toState: string;
  reason: string;
}

export interface HeartbeatGap {
  from: string;
  to: string;
  seconds: number;
  state: string;
}

export interface TelemetryPoint {
  at: string;
  gpus: { index: number; utilizationPct: number | null; temperatureC: number | null; powerW: number | null }[];
}

export interface LedgerLineEvidence {
  id: string;
  code: string;
  amountMicros: string;
  debitAccount: string;
  creditAccount: string;
  at: string;
}

export interface DisputeEvidence {
  version: 1;
  assembledAt: string;
  attempt: {
    id: string;
    jobId: string;
    number: number;
    providerKind: string;
    nodeId: string | null;
    status: string;
    endReason: string | null;
    createdAt: string;
    runningAt: string | null;
    endedAt: string | null;
    lastSeenAt: string | null;
  };
  gpu: {
    offeredModel: string;
    offeredCount: number;
    /** What the node registered with (null for cloud capacity). */
    reportedModelId: string | null;
    reportedName: string | null;
    reportedCount: number | null;
    reportedVramMb: number | null;
    registeredGpus: { index: number; name: string; vramTotalMb: number | null }[];
    matches: boolean | null;
  };
  heartbeats: {
    windowFrom: string;
    windowTo: string;
    /** State changes from shortly before the attempt to shortly after it. */
    events: HeartbeatEvent[];
    /** Periods within the attempt the node was not online. */
    gaps: HeartbeatGap[];
    /** How long before the attempt ended the node had been out of contact without coming back; null when it was online at the end. */
    offlineBeforeEndSeconds: number | null;
  };
  telemetry: {
    samples: TelemetryPoint[];
    summary: { sampleCount: number; utilizationPctMean: number | null; temperatureCMax: number | null; powerWMean: number | null };
  };
  stepTime: {
    measured: { count: number; meanMs: number; p50Ms: number } | null;
    benchmark: { p50Ms: number; p90Ms: number; basis: string; basisText: string; sampleCount: number } | null;
    /** measured mean / benchmark p90. */
    ratioToP90: number | null;
  };
  events: { at: string; type: string; fromStatus: string | null; toStatus: string | null; message: string }[];
  logs: { at: string; stream: string; line: string }[];
  metering: {
    billableSeconds: number | null;
    priceMicrosPerGpuHour: string;
    gpuCount: number;
    costMicros: string;
    chargedMicros: string;
    providerShareMicros: string;
    platformFeeMicros: string;
    /** The ledger owner credited with the provider share (the provider org, or a cloud kind's account). */
    providerLedgerOrgId: string | null;
  };
  ledger: LedgerLineEvidence[];
}

/** Down states in a node's state history. */
const DOWN = new Set(['suspect', 'offline']);

/**
 * The periods within [from, to] the node was suspect or offline, from its state changes (any order),
 * and how long before `to` it had been down without recovering.
 */
export function heartbeatGaps(events: readonly { at: Date; toState: string }[], from: Date, to: Date): { gaps: HeartbeatGap[]; offlineBeforeEndSeconds: number | null } {
  const sorted = [...events].sort((a, b) => a.at.getTime() - b.at.getTime());
  const gaps: HeartbeatGap[] = [];
  let state: string | null = null;
  let since = from;
  const close = (until: Date) => {
    if (state && DOWN.has(state) && until > since) {
      const last = gaps[gaps.length - 1];
      // suspect → offline is one gap, not two.
      if (last && last.to === since.toISOString()) {
        last.to = until.toISOString();
        last.seconds = Math.round((until.getTime() - new Date(last.from).getTime()) / 1000);
        if (state === 'offline') last.state = 'offline';
      } else {
        gaps.push({ from: since.toISOString(), to: until.toISOString(), seconds: Math.round((until.getTime() - since.getTime()) / 1000), state });
      }
    }
  };
  for (const event of sorted) {
    if (event.at <= from) {
      state = event.toState;
      continue;
    }
    if (event.at > to) break;
    close(event.at);
    state = event.toState;
    since = event.at;
  }
  close(to);
  const last = gaps[gaps.length - 1];
  const offlineBeforeEndSeconds = last && last.to === to.toISOString() ? last.seconds : null;
  return { gaps, offlineBeforeEndSeconds };
}

/** Mean and median of the measured step times (null when none). */
export function stepTimeStats(values: readonly number[]): { count: number; meanMs: number; p50Ms: number } | null {
  const clean = values.filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b);
  if (clean.length === 0) return null;
  const mean = clean.reduce((sum, v) => sum + v, 0) / clean.length;
  const mid = Math.floor(clean.length / 2);
  const p50 = clean.length % 2 === 1 ? clean[mid]! : (clean[mid - 1]! + clean[mid]!) / 2;
  return { count: clean.length, meanMs: round1(mean), p50Ms: round1(p50) };
}

/** Averages and maxima over the per-GPU samples. */
export function telemetrySummary(samples: readonly TelemetryPoint[]): DisputeEvidence['telemetry']['summary'] {
  const util: number[] = [];
  const temp: number[] = [];
  const power: number[] = [];
  for (const sample of samples) {
    for (const gpu of sample.gpus) {
      if (gpu.utilizationPct !== null) util.push(gpu.utilizationPct);
      if (gpu.temperatureC !== null) temp.push(gpu.temperatureC);
      if (gpu.powerW !== null) power.push(gpu.powerW);
    }
  }
  const mean = (xs: number[]) => (xs.length ? round1(xs.reduce((s, v) => s + v, 0) / xs.length) : null);
  return { sampleCount: samples.length, utilizationPctMean: mean(util), temperatureCMax: temp.length ? Math.max(...temp) : null, powerWMean: mean(power) };
}

/** Reads one GPU's entry of a telemetry row defensively (the jsonb comes from agents). */
export function telemetryGpu(raw: unknown, fallbackIndex: number): TelemetryPoint['gpus'][number] {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return { index: typeof o.index === 'number' ? o.index : fallbackIndex, utilizationPct: num(o.utilizationPct), temperatureC: num(o.temperatureC), powerW: num(o.powerW) };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
