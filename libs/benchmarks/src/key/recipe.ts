import { lookupGpu, type GpuModel } from '../catalog/gpu-catalog.js';
import { lookupModel, type ResolvedModel } from '../models/model-registry.js';
import { err, estimateError, ok, type EstimateError, type Result } from '../result.js';
import {
  isMethod,
  isPrecision,
  isQuantization,
  makeKey,
  shapeBucket,
  type BenchmarkKey,
  type Method,
  type Precision,
  type Quantization,
  type Shape,
} from './benchmark-key.js';

/** A training recipe with its model resolved: what a job is, independent of hardware. */
export interface TrainingRecipe {
  model: ResolvedModel;
  method: Method;
  precision: Precision;
  quantization: Quantization;
  shape: Shape;
  /** Global micro-batch: samples per forward/backward pass summed over all GPUs. */
  batchSize: number;
  gradAccum: number;
  /** Sentences about what was assumed (a model size read from its name, a default shape). */
  notes: readonly string[];
}

/** What a customer submits. */
export interface RecipeInput {
  /** Hugging Face id ('meta-llama/Llama-3.1-8B') or a registry alias. */
  modelId: string;
  method: string;
  /** Default 'bf16'. 'tf32' is read as 'fp32'. */
  precision?: string | undefined;
  /** Default 'nf4' for qlora, else 'none'. */
  quantization?: string | undefined;
  /** Text models; default 2048. */
  seqLen?: number | undefined;
  /** Image models; default 1024 × 1024 (512 × 512 for SD 1.x). */
  resolution?: { width: number; height: number } | undefined;
  /** Video models; default 1. */
  frames?: number | undefined;
  batchSize: number;
  /** Default 1. */
  gradAccum?: number | undefined;
}

export const LIMITS = Object.freeze({
  maxSteps: 10_000_000,
  maxBatchSize: 65_536,
  maxGradAccum: 4_096,
  maxSeqLen: 1_048_576,
  maxImageSide: 16_384,
  maxFrames: 2_048,
  maxGpuCount: 1_024,
});

const DEFAULT_SEQ_LEN = 2048;

function isPositiveInteger(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

export function parsePrecision(value: string | undefined): Precision | undefined {
  if (value === undefined) return 'bf16';
  const v = value.trim().toLowerCase();
  if (v === 'tf32') return 'fp32';
  return isPrecision(v) ? v : undefined;
}

/**
 * Checks and completes a customer's recipe. Errors: unknown_model, invalid_method,
 * invalid_precision, invalid_quantization, invalid_shape, invalid_batch_size, invalid_grad_accum.
 */
export function resolveRecipe(input: RecipeInput): Result<TrainingRecipe, EstimateError> {
  const notes: string[] = [];
  const found = lookupModel(input.modelId ?? '');
  if (found.kind === 'unknown') {
    return err(estimateError('unknown_model', `'${input.modelId}' is not a model we know, and its name does not say its size (e.g. 'org/name-7b')`));
  }
  if (found.kind === 'parsed') notes.push(found.note);
  const model = found.model;

  const methodText = typeof input.method === 'string' ? input.method.trim().toLowerCase() : '';
  if (!isMethod(methodText)) return err(estimateError('invalid_method', `method must be lora, qlora or full, not '${input.method}'`));
  let method: Method = methodText;

  const precision = parsePrecision(input.precision);
  if (!precision) return err(estimateError('invalid_precision', `precision must be one of fp32, tf32, fp16, bf16, fp8, fp4, not '${input.precision}'`));

  const quantText = input.quantization === undefined ? (method === 'qlora' ? 'nf4' : 'none') : input.quantization.trim().toLowerCase();
  if (!isQuantization(quantText)) {
    return err(estimateError('invalid_quantization', `quantization must be one of none, nf4, int4, int8, fp8, fp8-wo, not '${input.quantization}'`));
  }
  const quantization: Quantization = quantText;
  if (method === 'qlora' && quantization !== 'nf4' && quantization !== 'int4') {
    return err(estimateError('invalid_quantization', `QLoRA trains on a 4-bit base (nf4 or int4), not '${quantization}'`));
  }
  if (method === 'full' && quantization !== 'none') {
    return err(estimateError('invalid_quantization', `a full fine-tune trains the weights themselves and cannot use a ${quantization}-quantized base`));
  }
  if (method === 'lora' && (quantization === 'nf4' || quantization === 'int4')) {
    method = 'qlora';
    notes.push('LoRA on a 4-bit base is QLoRA; estimated as QLoRA');
  }

  let shape: Shape;
  if (model.modality === 'text') {
    const seqLen = input.seqLen ?? DEFAULT_SEQ_LEN;
    if (!isPositiveInteger(seqLen, LIMITS.maxSeqLen)) {
      return err(estimateError('invalid_shape', `sequence length must be a whole number from 1 to ${LIMITS.maxSeqLen.toLocaleString('en-US')}, not ${input.seqLen}`));
    }
    if (input.seqLen === undefined) notes.push(`no sequence length given; assumed ${DEFAULT_SEQ_LEN} tokens`);
    shape = { kind: 'seq', seqLen };
  } else {
    const side = model.family === 'sd-1' ? 512 : 1024;
    const resolution = input.resolution ?? { width: side, height: side };
    const frames = input.frames ?? 1;
    if (!isPositiveInteger(resolution.width, LIMITS.maxImageSide) || !isPositiveInteger(resolution.height, LIMITS.maxImageSide)) {
      return err(estimateError('invalid_shape', `image resolution must be whole pixels from 1 to ${LIMITS.maxImageSide} per side`));
    }
    if (!isPositiveInteger(frames, LIMITS.maxFrames)) return err(estimateError('invalid_shape', `frames must be a whole number from 1 to ${LIMITS.maxFrames}`));
    if (input.resolution === undefined) notes.push(`no resolution given; assumed ${side}×${side}`);
    shape = { kind: 'image', width: resolution.width, height: resolution.height, frames };
  }

  if (!isPositiveInteger(input.batchSize, LIMITS.maxBatchSize)) {
    return err(estimateError('invalid_batch_size', `batch size must be a whole number from 1 to ${LIMITS.maxBatchSize.toLocaleString('en-US')}, not ${input.batchSize}`));
  }
  const gradAccum = input.gradAccum ?? 1;
  if (!isPositiveInteger(gradAccum, LIMITS.maxGradAccum)) {
    return err(estimateError('invalid_grad_accum', `gradient accumulation must be a whole number from 1 to ${LIMITS.maxGradAccum}, not ${input.gradAccum}`));
  }
  return ok({ model, method, precision, quantization, shape, batchSize: input.batchSize, gradAccum, notes });
}

/** Resolves an offer's GPU: a catalog id or any alias. */
export function resolveGpu(idOrName: string): Result<GpuModel, EstimateError> {
  const found = lookupGpu(idOrName ?? '');
  if (found.kind === 'unknown') return err(estimateError('unknown_gpu', `'${idOrName}' is not a GPU we know`));
  return ok(found.gpu);
}

export function validateGpuCount(count: number): Result<number, EstimateError> {
  if (!isPositiveInteger(count, LIMITS.maxGpuCount)) {
    return err(estimateError('invalid_gpu_count', `GPU count must be a whole number from 1 to ${LIMITS.maxGpuCount}, not ${count}`));
  }
  return ok(count);
}

/** The benchmark key of a recipe on a hardware profile. */
export function recipeKey(recipe: TrainingRecipe, gpuId: string, gpuCount: number): BenchmarkKey {
  return makeKey({
    family: recipe.model.family,
    paramsB: recipe.model.paramsB,
    method: recipe.method,
    gpuId,
    gpuCount,
    shape: shapeBucket(recipe.shape),
    batchSize: recipe.batchSize,
    gradAccum: recipe.gradAccum,
    precision: recipe.precision,
    quantization: recipe.quantization,
  });
}
