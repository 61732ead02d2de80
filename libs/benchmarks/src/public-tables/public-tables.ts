/**
 * Pure parsers for the public step-time tables (shared/datasets/step-times): CSV text in, prior
 * samples out, each with its key, its step time in ms and a source label naming the table.
 *
 * Only step-time rows become samples (metrics step_time_ms, step_time_ms_derived,
 * train_step_time_ms, train_step_time_ms_derived); other metrics (throughput, time to train, run
 * time of an unstated number of steps) are counted as skipped. A step-time row whose GPU, model,
 * precision, shape or batch cannot be mapped is reported with the reason, never guessed.
 *
 * Batch: the tables' batch_size is the global batch of one optimizer step (micro-batch × data
 * parallel × accumulation, "GBS"), so the key's batch (the global micro-batch) is
 * batch_size / grad_accum.
 */
import { lookupGpu } from '../catalog/gpu-catalog.js';
import { makeKey, shapeBucket, type BenchmarkKey, type Method, type Precision, type Quantization, type Shape } from '../key/benchmark-key.js';
import { findRegisteredModel } from '../models/model-registry.js';
import { addRun, emptyStepTimeAggregate, type StepTimeAggregate } from '../aggregate/aggregate.js';
import { BenchmarkSnapshot } from '../estimator/snapshot.js';
import { keyToString } from '../key/benchmark-key.js';
import { parseCsvRecords } from './csv.js';

export const PUBLIC_TABLES = Object.freeze([
  'lambda_dlbenchmark_pytorch.csv',
  'llm_finetune_lora_qlora_tables.csv',
  'mlperf_training_llama2_70b_lora.csv',
  'simpletuner_segmented_checkpointing_h100_l40s.csv',
] as const);
export type PublicTable = (typeof PUBLIC_TABLES)[number];

export interface PriorSample {
  key: BenchmarkKey;
  stepTimeMs: number;
  /** '<table file>: <source column>'. */
  source: string;
  table: string;
  /** Record number in the table (the header is 1). */
  row: number;
}

export type UnmappedReason =
  | 'unknown_gpu'
  | 'unknown_model'
  | 'unknown_method'
  | 'ambiguous_precision'
  | 'unknown_quantization'
  | 'unparseable_shape'
  | 'unparseable_batch'
  | 'invalid_value';

export interface UnmappedRow {
  table: string;
  row: number;
  reason: UnmappedReason;
  detail: string;
}

export interface TableParseResult {
  table: string;
  rowsRead: number;
  samples: PriorSample[];
  unmapped: UnmappedRow[];
  /** Rows that are not step times, by metric. */
  skipped: Record<string, number>;
}

const STEP_METRICS = new Set(['step_time_ms', 'step_time_ms_derived', 'train_step_time_ms', 'train_step_time_ms_derived']);

type Mapped<T> = { ok: true; value: T } | { ok: false; reason: UnmappedReason; detail: string };

function fail<T>(reason: UnmappedReason, detail: string): Mapped<T> {
  return { ok: false, reason, detail };
}

/** Table precision labels → training precision; 'not stated' and 'fp4 or fp8' are ambiguous. */
export function mapPrecision(label: string): Mapped<Precision> {
  const v = label.trim().toLowerCase();
  if (/\bor\b/.test(v) || (/not[ _]stated|not_in_log/.test(v) && !/^fp8\b/.test(v))) return fail('ambiguous_precision', `precision '${label}' does not say which`);
  if (/^(bf16|fp16)\/(bf16|fp16)/.test(v) || /^16-bit/.test(v)) return fail('ambiguous_precision', `precision '${label}' does not say bf16 or fp16`);
  if (v.startsWith('bf16')) return { ok: true, value: 'bf16' };
  if (v.startsWith('fp16')) return { ok: true, value: 'fp16' };
  if (v.startsWith('fp32') || v.startsWith('tf32')) return { ok: true, value: 'fp32' };
  if (v.startsWith('fp8') || v.startsWith('mxfp8')) return { ok: true, value: 'fp8' };
  if (v.startsWith('fp4') || v.startsWith('nvfp4')) return { ok: true, value: 'fp4' };
  return fail('ambiguous_precision', `precision '${label}' is not one we map`);
}

export function mapQuantization(label: string): Mapped<Quantization> {
  const v = label.trim().toLowerCase();
  if (v === 'none' || v === '') return { ok: true, value: 'none' };
  if (v.startsWith('nf4') || v.startsWith('4-bit')) return { ok: true, value: 'nf4' };
  if (v.startsWith('int4')) return { ok: true, value: 'int4' };
  if (v.startsWith('int8')) return { ok: true, value: 'int8' };
  if (v.startsWith('fp8 weight-only')) return { ok: true, value: 'fp8-wo' };
  if (v.startsWith('fp8')) return { ok: true, value: 'fp8' };
  return fail('unknown_quantization', `quantization '${label}' is not one we map`);
}

/**
 * Shape labels: '4096' (tokens), '224x224', '832x480, 81f', '512 px square crop', '1024 px',
 * '480 pixel-area video buckets, 48 frames, batch 2' (SimpleTuner's pixel_area: N × N pixels).
 */
export function mapShape(label: string, modality: 'text' | 'image'): Mapped<Shape> {
  const v = label.trim().toLowerCase();
  if (modality === 'text') {
    if (/^\d+$/.test(v)) return { ok: true, value: { kind: 'seq', seqLen: Number(v) } };
    return fail('unparseable_shape', `sequence length '${label}' is not a number`);
  }
  const framesMatch = /(\d+)\s*(?:f\b|frames\b)/.exec(v);
  const frames = framesMatch ? Number(framesMatch[1]) : 1;
  const wh = /^(\d+)\s*x\s*(\d+)/.exec(v);
  if (wh) return { ok: true, value: { kind: 'image', width: Number(wh[1]), height: Number(wh[2]), frames } };
  const side = /^(\d+)\s*(?:px|pixel-area)\b/.exec(v);
  if (side) return { ok: true, value: { kind: 'image', width: Number(side[1]), height: Number(side[1]), frames } };
  return fail('unparseable_shape', `resolution '${label}' is not one we read`);
}

export function mapMethod(label: string, table: string): Mapped<Method> {
  const v = label.toLowerCase();
  if (table.startsWith('lambda_')) return { ok: true, value: 'full' };
  if (/\bqlora\b/.test(v)) return { ok: true, value: 'qlora' };
  if (/lora|lycoris|lokr/.test(v)) return { ok: true, value: 'lora' };
  if (/\bsft\b|full/.test(v)) return { ok: true, value: 'full' };
  return fail('unknown_method', `method '${label}' is not LoRA, QLoRA or a full fine-tune`);
}

function wholeNumber(label: string): number | undefined {
  return /^\d+$/.test(label.trim()) ? Number(label.trim()) : undefined;
}

/** SimpleTuner names its example config first in the method ('hunyuanvideo-1.5-t2v.peft-lora (...)'). */
function configName(method: string): string {
  const match = /^(.*?)\.(?:peft|lycoris)/.exec(method.trim());
  return match ? match[1]! : '';
}

function mapRow(table: string, r: Record<string, string>): Mapped<Omit<PriorSample, 'row' | 'table'>> {
  const gpuFound = lookupGpu(r.gpu ?? '');
  if (gpuFound.kind === 'unknown') return fail('unknown_gpu', `GPU '${r.gpu}' is not in the catalog`);
  const model = (table.startsWith('simpletuner') ? findRegisteredModel(configName(r.method ?? '')) : undefined) ?? findRegisteredModel(r.model ?? '');
  if (!model) return fail('unknown_model', `model '${r.model}' is not in the registry`);
  const method = mapMethod(r.method ?? '', table);
  if (!method.ok) return method;
  const precision = mapPrecision(r.precision ?? '');
  if (!precision.ok) return precision;
  const quantization = mapQuantization(r.quantization ?? '');
  if (!quantization.ok) return quantization;
  const shape = mapShape(r.seq_len_or_resolution ?? '', model.modality);
  if (!shape.ok) return shape;
  const count = wholeNumber(r.gpu_count ?? '');
  const batch = wholeNumber(r.batch_size ?? '');
  const accum = wholeNumber(r.grad_accum ?? '');
  if (!count || !batch || !accum) return fail('unparseable_batch', `gpu_count '${r.gpu_count}', batch '${r.batch_size}', grad_accum '${r.grad_accum}' are not all whole numbers`);
  if (batch % accum !== 0) return fail('unparseable_batch', `global batch ${batch} is not a multiple of grad_accum ${accum}`);
  const value = Number(r.value);
  if (!Number.isFinite(value) || value <= 0 || (r.unit ?? '').trim() !== 'ms') return fail('invalid_value', `value '${r.value} ${r.unit}' is not a positive time in ms`);
  let effectiveMethod = method.value;
  if (effectiveMethod === 'lora' && (quantization.value === 'nf4' || quantization.value === 'int4')) effectiveMethod = 'qlora';
  const key = makeKey({
    family: model.family,
    paramsB: model.paramsB,
    method: effectiveMethod,
    gpuId: gpuFound.gpu.id,
    gpuCount: count,
    shape: shapeBucket(shape.value),
    batchSize: batch / accum,
    gradAccum: accum,
    precision: precision.value,
    quantization: quantization.value,
  });
  return { ok: true, value: { key, stepTimeMs: value, source: `${table}: ${r.source ?? ''}` } };
}

/** Parses one public table. `table` is its file name (it picks the table's conventions). */
export function parsePublicTable(table: string, csvText: string): TableParseResult {
  const result: TableParseResult = { table, rowsRead: 0, samples: [], unmapped: [], skipped: {} };
  for (const { row, record } of parseCsvRecords(csvText)) {
    result.rowsRead += 1;
    const metric = (record.metric ?? '').trim();
    if (!STEP_METRICS.has(metric)) {
      result.skipped[metric] = (result.skipped[metric] ?? 0) + 1;
      continue;
    }
    const mapped = mapRow(table, record);
    if (mapped.ok) result.samples.push({ ...mapped.value, table, row });
    else result.unmapped.push({ table, row, reason: mapped.reason, detail: mapped.detail });
  }
  return result;
}

export const parseLambdaTable = (csv: string): TableParseResult => parsePublicTable('lambda_dlbenchmark_pytorch.csv', csv);
export const parseLlmFinetuneTable = (csv: string): TableParseResult => parsePublicTable('llm_finetune_lora_qlora_tables.csv', csv);
export const parseMlperfTable = (csv: string): TableParseResult => parsePublicTable('mlperf_training_llama2_70b_lora.csv', csv);
export const parseSimpleTunerTable = (csv: string): TableParseResult => parsePublicTable('simpletuner_segmented_checkpointing_h100_l40s.csv', csv);

/** Unmapped rows summed by reason and detail, for reports. */
export function summarizeUnmapped(unmapped: readonly UnmappedRow[]): Array<{ table: string; reason: UnmappedReason; detail: string; rows: number }> {
  const counts = new Map<string, { table: string; reason: UnmappedReason; detail: string; rows: number }>();
  for (const u of unmapped) {
    const id = `${u.table}|${u.reason}|${u.detail}`;
    const existing = counts.get(id);
    if (existing) existing.rows += 1;
    else counts.set(id, { table: u.table, reason: u.reason, detail: u.detail, rows: 1 });
  }
  return [...counts.values()].sort((a, b) => b.rows - a.rows);
}

/** Prior samples → one aggregate per key (public rows carry no step count: stepsObserved 0). */
export function aggregatePriorSamples(samples: readonly PriorSample[]): Array<{ key: string; aggregate: StepTimeAggregate }> {
  const byKey = new Map<string, StepTimeAggregate>();
  for (const sample of samples) {
    const key = keyToString(sample.key);
    byKey.set(key, addRun(byKey.get(key) ?? emptyStepTimeAggregate(), { stepTimeMs: sample.stepTimeMs, stepsObserved: 0 }));
  }
  return [...byKey].map(([key, aggregate]) => ({ key, aggregate }));
}

/** Parses every table given (file name → CSV text) and builds a snapshot of their priors. */
export function snapshotFromPublicTables(tables: Readonly<Record<string, string>>): { snapshot: BenchmarkSnapshot; results: TableParseResult[] } {
  const results = Object.entries(tables).map(([table, text]) => parsePublicTable(table, text));
  const samples = results.flatMap((r) => r.samples);
  return { snapshot: BenchmarkSnapshot.build({ stepTimes: aggregatePriorSamples(samples) }), results };
}
