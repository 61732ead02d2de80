/**
 * Privacy by construction: a benchmark sample has no field that could identify a user, an org, a
 * job, a node, a dataset or an IP. Its model is a family from the registry (or 'custom') plus a
 * parameter count, never a model id; its GPU is a catalog id. A sample carrying any other field is
 * rejected with the names of those fields: it is never stripped silently, because a producer that
 * sends extra fields has a bug worth seeing.
 */
import { isGpuId } from '../catalog/gpu-catalog.js';
import { aggregateRun, type StepTimeAggregate } from '../aggregate/aggregate.js';
import {
  isMethod,
  isPrecision,
  isQuantization,
  keyToString,
  makeKey,
  shapeBucket,
  type BenchmarkKey,
  type Method,
  type Precision,
  type Quantization,
  type Shape,
} from '../key/benchmark-key.js';
import { LIMITS, type TrainingRecipe } from '../key/recipe.js';
import { CUSTOM_FAMILY, MODEL_REGISTRY } from '../models/model-registry.js';
import { err, ok, type Result } from '../result.js';

export interface BenchmarkSample {
  family: string;
  paramsB: number;
  method: Method;
  gpuId: string;
  gpuCount: number;
  shape: Shape;
  batchSize: number;
  gradAccum: number;
  precision: Precision;
  quantization: Quantization;
  /** Mean optimizer-step time of the run, milliseconds (warm-up excluded). */
  stepTimeMs: number;
  /** Optimizer steps the mean is over. */
  stepsObserved: number;
  /** Mean validation time per prompt, milliseconds, when the run validated. */
  validationMsPerPrompt?: number;
}

export type SampleValidationError =
  | { code: 'not_an_object'; message: string }
  | { code: 'unexpected_fields'; fields: string[]; message: string }
  | { code: 'invalid_field'; field: string; message: string };

/** Every field a sample may carry. */
export const SAMPLE_FIELDS = Object.freeze([
  'family',
  'paramsB',
  'method',
  'gpuId',
  'gpuCount',
  'shape',
  'batchSize',
  'gradAccum',
  'precision',
  'quantization',
  'stepTimeMs',
  'stepsObserved',
  'validationMsPerPrompt',
] as const);

const SEQ_SHAPE_FIELDS = ['kind', 'seqLen'];
const IMAGE_SHAPE_FIELDS = ['kind', 'width', 'height', 'frames'];

/** The families a sample may name: the registry's, plus 'custom'. */
export const KNOWN_FAMILIES: ReadonlySet<string> = new Set([CUSTOM_FAMILY, ...MODEL_REGISTRY.map((m) => m.family)]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function wholeInRange(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function positiveFinite(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= max;
}

function invalid(field: string, message: string): { ok: false; error: SampleValidationError } {
  return err({ code: 'invalid_field', field, message: `${field} ${message}` });
}

/**
 * Validates an incoming sample (parsed JSON). Extra fields anywhere (top level or in `shape`) give
 * `unexpected_fields` naming all of them; otherwise the first invalid field gives `invalid_field`.
 */
export function validateSample(input: unknown): Result<BenchmarkSample, SampleValidationError> {
  if (!isRecord(input)) return err({ code: 'not_an_object', message: 'a sample must be a JSON object' });
  const allowed = new Set<string>(SAMPLE_FIELDS);
  const unexpected = Object.keys(input).filter((field) => !allowed.has(field));
  const shape = input.shape;
  if (isRecord(shape)) {
    const shapeFields = shape.kind === 'image' ? IMAGE_SHAPE_FIELDS : SEQ_SHAPE_FIELDS;
    for (const field of Object.keys(shape)) if (!shapeFields.includes(field)) unexpected.push(`shape.${field}`);
  }
  if (unexpected.length > 0) {
    return err({ code: 'unexpected_fields', fields: unexpected, message: `sample carries fields that are not allowed: ${unexpected.join(', ')}` });
  }

  const s = input;
  if (typeof s.family !== 'string' || !KNOWN_FAMILIES.has(s.family)) return invalid('family', `must be a registry family or '${CUSTOM_FAMILY}'`);
  if (!positiveFinite(s.paramsB, 10_000)) return invalid('paramsB', 'must be a parameter count in billions, above 0 and at most 10,000');
  if (!isMethod(s.method)) return invalid('method', 'must be lora, qlora or full');
  if (typeof s.gpuId !== 'string' || !isGpuId(s.gpuId)) return invalid('gpuId', 'must be a GPU catalog id');
  if (!wholeInRange(s.gpuCount, 1, LIMITS.maxGpuCount)) return invalid('gpuCount', `must be a whole number from 1 to ${LIMITS.maxGpuCount}`);
  if (!isRecord(shape)) return invalid('shape', "must be { kind: 'seq', seqLen } or { kind: 'image', width, height, frames }");
  let parsedShape: Shape;
  if (shape.kind === 'seq') {
    if (!wholeInRange(shape.seqLen, 1, LIMITS.maxSeqLen)) return invalid('shape.seqLen', `must be a whole number from 1 to ${LIMITS.maxSeqLen}`);
    parsedShape = { kind: 'seq', seqLen: shape.seqLen };
  } else if (shape.kind === 'image') {
    if (!wholeInRange(shape.width, 1, LIMITS.maxImageSide)) return invalid('shape.width', `must be a whole number from 1 to ${LIMITS.maxImageSide}`);
    if (!wholeInRange(shape.height, 1, LIMITS.maxImageSide)) return invalid('shape.height', `must be a whole number from 1 to ${LIMITS.maxImageSide}`);
    if (!wholeInRange(shape.frames, 1, LIMITS.maxFrames)) return invalid('shape.frames', `must be a whole number from 1 to ${LIMITS.maxFrames}`);
    parsedShape = { kind: 'image', width: shape.width, height: shape.height, frames: shape.frames };
  } else {
    return invalid('shape.kind', "must be 'seq' or 'image'");
  }
  if (!wholeInRange(s.batchSize, 1, LIMITS.maxBatchSize)) return invalid('batchSize', `must be a whole number from 1 to ${LIMITS.maxBatchSize}`);
  if (!wholeInRange(s.gradAccum, 1, LIMITS.maxGradAccum)) return invalid('gradAccum', `must be a whole number from 1 to ${LIMITS.maxGradAccum}`);
  if (!isPrecision(s.precision)) return invalid('precision', 'must be fp32, fp16, bf16, fp8 or fp4');
  if (!isQuantization(s.quantization)) return invalid('quantization', 'must be none, nf4, int4, int8, fp8 or fp8-wo');
  // A step slower than a day is a broken run, not a benchmark.
  if (!positiveFinite(s.stepTimeMs, 86_400_000)) return invalid('stepTimeMs', 'must be above 0 and at most a day');
  if (!wholeInRange(s.stepsObserved, 1, LIMITS.maxSteps)) return invalid('stepsObserved', `must be a whole number from 1 to ${LIMITS.maxSteps}`);
  if (s.validationMsPerPrompt !== undefined && !positiveFinite(s.validationMsPerPrompt, 86_400_000)) {
    return invalid('validationMsPerPrompt', 'must be above 0 and at most a day when present');
  }
  const sample: BenchmarkSample = {
    family: s.family,
    paramsB: s.paramsB,
    method: s.method,
    gpuId: s.gpuId,
    gpuCount: s.gpuCount,
    shape: parsedShape,
    batchSize: s.batchSize,
    gradAccum: s.gradAccum,
    precision: s.precision,
    quantization: s.quantization,
    stepTimeMs: s.stepTimeMs,
    stepsObserved: s.stepsObserved,
  };
  if (s.validationMsPerPrompt !== undefined) sample.validationMsPerPrompt = s.validationMsPerPrompt;
  return ok(sample);
}

export function sampleKey(sample: BenchmarkSample): BenchmarkKey {
  return makeKey({
    family: sample.family,
    paramsB: sample.paramsB,
    method: sample.method,
    gpuId: sample.gpuId,
    gpuCount: sample.gpuCount,
    shape: shapeBucket(sample.shape),
    batchSize: sample.batchSize,
    gradAccum: sample.gradAccum,
    precision: sample.precision,
    quantization: sample.quantization,
  });
}

/**
 * Ingestion: a validated sample → its key string and a one-run aggregate, ready for
 * `snapshot.merge(key, aggregate)` or for merging into a stored aggregate with mergeAggregates.
 */
export function ingestSample(sample: BenchmarkSample): { key: string; aggregate: StepTimeAggregate } {
  return {
    key: keyToString(sampleKey(sample)),
    aggregate: aggregateRun({ stepTimeMs: sample.stepTimeMs, stepsObserved: sample.stepsObserved, validationMsPerPrompt: sample.validationMsPerPrompt }),
  };
}

/** What a finished run measured. */
export interface RunMeasurement {
  gpuId: string;
  gpuCount: number;
  stepTimeMs: number;
  stepsObserved: number;
  validationMsPerPrompt?: number | undefined;
}

/**
 * Builds the anonymous sample of a finished run from its resolved recipe. The model id is dropped:
 * only the family ('custom' outside the registry) and the parameter count remain.
 */
export function sampleFromRun(recipe: TrainingRecipe, run: RunMeasurement): BenchmarkSample {
  const sample: BenchmarkSample = {
    family: recipe.model.family,
    paramsB: recipe.model.paramsB,
    method: recipe.method,
    gpuId: run.gpuId,
    gpuCount: run.gpuCount,
    shape: recipe.shape,
    batchSize: recipe.batchSize,
    gradAccum: recipe.gradAccum,
    precision: recipe.precision,
    quantization: recipe.quantization,
    stepTimeMs: run.stepTimeMs,
    stepsObserved: run.stepsObserved,
  };
  if (run.validationMsPerPrompt !== undefined) sample.validationMsPerPrompt = run.validationMsPerPrompt;
  return sample;
}
