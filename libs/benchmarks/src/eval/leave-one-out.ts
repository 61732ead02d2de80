/**
 * Leave-one-out evaluation of the estimator on the public tables (pure: samples in, numbers out).
 *
 *   row mode  each step-time row is held out of the prior (its value removed from its key's
 *             aggregate) and estimated from everything else;
 *   GPU mode  every row of one GPU model is held out at once, so its rows can only be estimated by
 *             transfer from other GPUs (catalog specs: no shared keys are left) or by the prior.
 *
 * Error is the absolute percentage error of the p50 step time; coverage is the share of held-out
 * values inside the estimate's p10–p90 interval (80% would be calibrated).
 */
import { addRun, emptyStepTimeAggregate, removeRunStepTime, type StepTimeAggregate } from '../aggregate/aggregate.js';
import { BenchmarkSnapshot } from '../estimator/snapshot.js';
import { DEFAULT_TUNING, estimateStepTime, type Basis, type EstimatorTuning, type StepTimeEstimate } from '../estimator/step-time.js';
import { keyToString } from '../key/benchmark-key.js';
import type { PriorSample } from '../public-tables/public-tables.js';

export type EvalMode = 'row' | 'gpu';

export interface EvalRecord {
  mode: EvalMode;
  table: string;
  row: number;
  gpuId: string;
  key: string;
  actualMs: number;
  estimate: StepTimeEstimate;
  /** |p50 − actual| / actual. */
  ape: number;
  inInterval: boolean;
}

function aggregateAll(samples: readonly PriorSample[]): Map<string, StepTimeAggregate> {
  const byKey = new Map<string, StepTimeAggregate>();
  for (const s of samples) {
    const key = keyToString(s.key);
    byKey.set(key, addRun(byKey.get(key) ?? emptyStepTimeAggregate(), { stepTimeMs: s.stepTimeMs, stepsObserved: 0 }));
  }
  return byKey;
}

function record(mode: EvalMode, sample: PriorSample, estimate: StepTimeEstimate): EvalRecord {
  const actual = sample.stepTimeMs;
  return {
    mode,
    table: sample.table,
    row: sample.row,
    gpuId: sample.key.gpuId,
    key: keyToString(sample.key),
    actualMs: actual,
    estimate,
    ape: Math.abs(estimate.p50Ms - actual) / actual,
    inInterval: actual >= estimate.p10Ms && actual <= estimate.p90Ms,
  };
}

/** Row mode: hold out one row at a time. */
export function leaveOneRowOut(samples: readonly PriorSample[], tuning: EstimatorTuning = DEFAULT_TUNING): EvalRecord[] {
  const all = aggregateAll(samples);
  const out: EvalRecord[] = [];
  for (const sample of samples) {
    const heldKey = keyToString(sample.key);
    const stepTimes: Array<{ key: string; aggregate: StepTimeAggregate }> = [];
    for (const [key, aggregate] of all) {
      if (key !== heldKey) {
        stepTimes.push({ key, aggregate });
        continue;
      }
      const remaining = removeRunStepTime(aggregate, sample.stepTimeMs);
      if (remaining.stepTimeMs.count > 0) stepTimes.push({ key, aggregate: remaining });
    }
    const snapshot = BenchmarkSnapshot.build({ stepTimes });
    out.push(record('row', sample, estimateStepTime(sample.key, snapshot, tuning)));
  }
  return out;
}

/** GPU mode: hold out every row of one GPU model at a time. */
export function leaveGpuOut(samples: readonly PriorSample[], tuning: EstimatorTuning = DEFAULT_TUNING): EvalRecord[] {
  const gpus = [...new Set(samples.map((s) => s.key.gpuId))].sort();
  const out: EvalRecord[] = [];
  for (const gpu of gpus) {
    const snapshot = BenchmarkSnapshot.build({ stepTimes: [...aggregateAll(samples.filter((s) => s.key.gpuId !== gpu))].map(([key, aggregate]) => ({ key, aggregate })) });
    for (const sample of samples) if (sample.key.gpuId === gpu) out.push(record('gpu', sample, estimateStepTime(sample.key, snapshot, tuning)));
  }
  return out;
}

export interface ErrorSummary {
  n: number;
  medianApe: number;
  p90Ape: number;
  /** Share of actual values inside p10–p90. */
  coverage: number;
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(records: readonly EvalRecord[]): ErrorSummary {
  const apes = records.map((r) => r.ape).sort((a, b) => a - b);
  return {
    n: records.length,
    medianApe: quantile(apes, 0.5),
    p90Ape: quantile(apes, 0.9),
    coverage: records.length === 0 ? Number.NaN : records.filter((r) => r.inInterval).length / records.length,
  };
}

export interface EvalSummaryRow extends ErrorSummary {
  mode: EvalMode;
  table: string;
  basis: Basis | 'all';
}

const BASES: readonly Basis[] = ['exact', 'scaled', 'transferred', 'prior'];

/** Summaries per mode × table × basis (plus 'all' bases, and 'all' tables). */
export function summarizeByTableAndBasis(records: readonly EvalRecord[]): EvalSummaryRow[] {
  const rows: EvalSummaryRow[] = [];
  for (const mode of ['row', 'gpu'] as const) {
    const ofMode = records.filter((r) => r.mode === mode);
    if (ofMode.length === 0) continue;
    const tables = [...new Set(ofMode.map((r) => r.table))].sort();
    for (const table of [...tables, 'all']) {
      const ofTable = table === 'all' ? ofMode : ofMode.filter((r) => r.table === table);
      rows.push({ mode, table, basis: 'all', ...summarize(ofTable) });
      for (const basis of BASES) {
        const ofBasis = ofTable.filter((r) => r.estimate.basis === basis);
        if (ofBasis.length > 0) rows.push({ mode, table, basis, ...summarize(ofBasis) });
      }
    }
  }
  return rows;
}

function pct(x: number): string {
  return Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`;
}

export interface EvalReportInput {
  rows: readonly EvalSummaryRow[];
  machine: string;
  dateUtc: string;
  sampleCount: number;
  keyCount: number;
  unmapped: ReadonlyArray<{ table: string; reason: string; detail: string; rows: number }>;
  /** Extra lines (e.g. the per-GPU results), already markdown. */
  notes?: readonly string[];
}

/** The "## Estimator accuracy (leave-one-out)" section, markdown. */
export function renderAccuracySection(input: EvalReportInput): string {
  const lines: string[] = [];
  lines.push('## Estimator accuracy (leave-one-out)');
  lines.push('');
  lines.push(`Generated by \`npm run eval:estimator\` on ${input.machine}, ${input.dateUtc} (UTC).`);
  lines.push(
    `Prior: ${input.sampleCount} step-time rows of the public tables in ${input.keyCount} benchmark keys. ` +
      'Error is the absolute percentage error of the p50 step time against the held-out published value; ' +
      'coverage is the share of held-out values inside the estimate\'s p10–p90 interval (80% is calibrated).',
  );
  lines.push('');
  for (const mode of ['row', 'gpu'] as const) {
    const ofMode = input.rows.filter((r) => r.mode === mode);
    if (ofMode.length === 0) continue;
    lines.push(mode === 'row' ? '### Hold out one row' : '### Hold out a whole GPU model');
    lines.push('');
    lines.push('| table | basis | n | median APE | p90 APE | p10–p90 coverage |');
    lines.push('| --- | --- | ---: | ---: | ---: | ---: |');
    for (const r of ofMode) {
      const table = r.table === 'all' ? '**all tables**' : `\`${r.table}\``;
      const basis = r.basis === 'all' ? '**all**' : r.basis;
      lines.push(`| ${table} | ${basis} | ${r.n} | ${pct(r.medianApe)} | ${pct(r.p90Ape)} | ${pct(r.coverage)} |`);
    }
    lines.push('');
  }
  if (input.notes && input.notes.length > 0) {
    lines.push(...input.notes);
    lines.push('');
  }
  if (input.unmapped.length > 0) {
    lines.push('### Step-time rows not mapped (reported, not guessed)');
    lines.push('');
    lines.push('| table | reason | detail | rows |');
    lines.push('| --- | --- | --- | ---: |');
    for (const u of input.unmapped) lines.push(`| \`${u.table}\` | ${u.reason} | ${u.detail.replace(/\|/g, '\\|')} | ${u.rows} |`);
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * Replaces the accuracy section of a markdown document (from its heading to the next '## '
 * heading), or appends it.
 */
export function replaceAccuracySection(document: string, section: string): string {
  const heading = '## Estimator accuracy (leave-one-out)';
  const start = document.indexOf(heading);
  const body = section.endsWith('\n') ? section : `${section}\n`;
  if (start === -1) {
    const base = document.length === 0 || document.endsWith('\n\n') ? document : document.endsWith('\n') ? `${document}\n` : `${document}\n\n`;
    return `${base}${body}`;
  }
  const next = document.indexOf('\n## ', start + heading.length);
  const after = next === -1 ? '' : document.slice(next + 1);
  return `${document.slice(0, start)}${body}${after ? `\n${after}` : ''}`;
}
