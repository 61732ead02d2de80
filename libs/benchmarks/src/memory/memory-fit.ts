/**
 * Memory-fit estimation: will this recipe fit on this hardware profile?
 *
 * The estimate (GiB, reported as "GB" like the vendors' own figures) is the sum of
 *   - base weights: parameters × bytes per parameter (fp32 4, bf16/fp16 2; training in fp8/fp4
 *     keeps 16-bit weights; nf4/int4 ≈ 0.55 with block scales; int8 and fp8 ≈ 1);
 *   - trainable state: full fine-tune with AdamW in mixed precision keeps gradients (2), an fp32
 *     master copy (4) and two fp32 moments (8): 14 bytes on top of the 16-bit weights (12 on top
 *     of fp32 weights), i.e. the classic 16 bytes per parameter. LoRA/QLoRA train adapters of
 *     about 0.5% of the parameters (rank 16 on all linear layers) at 16 bytes each;
 *   - activations, assuming gradient checkpointing (the usual fine-tuning default): one
 *     checkpoint per layer per token (layers × hidden ≈ 0.15 × P^0.6 for transformer shapes, at
 *     2 bytes), one layer's working set (≈ 34 bytes × hidden per token), and for text the logits
 *     (≈ 8 bytes × 50k vocabulary per token). Tokens are the per-GPU micro-batch × sequence
 *     length, or for images latent tokens (pixels / 256, video frames compressed 4× in time);
 *   - 1 GB of CUDA context, and 10% for allocator fragmentation.
 * With more than one GPU, model state (weights, gradients, optimizer) is assumed sharded across
 * them (FSDP / ZeRO-3 / tensor parallel) and the micro-batch split between them.
 *
 * It is deliberately a little conservative: frameworks with 8-bit or paged optimizers, CPU
 * offload or fused losses need less (torchtune fits a full 8B fine-tune in 19 GiB that way).
 */
import type { GpuModel } from '../catalog/gpu-catalog.js';
import type { Precision, Quantization, Shape } from '../key/benchmark-key.js';
import type { TrainingRecipe } from '../key/recipe.js';
import { estimateError, type EstimateError } from '../result.js';

const GIB = 1024 ** 3;
const ADAPTER_FRACTION = 0.005;
const CUDA_CONTEXT_GIB = 1;
const FRAGMENTATION = 1.1;
const VOCAB_BYTES_PER_TOKEN = 50_000 * 8;

export interface MemoryBreakdown {
  weightsGb: number;
  trainableStateGb: number;
  activationsGb: number;
  overheadGb: number;
  /** Per GPU. */
  totalGb: number;
}

export function weightBytesPerParam(precision: Precision, quantization: Quantization): number {
  switch (quantization) {
    case 'nf4':
    case 'int4':
      return 0.55;
    case 'int8':
      return 1.03;
    case 'fp8':
    case 'fp8-wo':
      return 1.0;
    case 'none':
      return precision === 'fp32' ? 4 : 2;
  }
}

/** Tokens one GPU holds activations for in one micro-batch. */
export function tokensPerGpuMicroBatch(shape: Shape, batchSize: number, gpuCount: number): number {
  const perGpuBatch = Math.ceil(batchSize / gpuCount);
  if (shape.kind === 'seq') return perGpuBatch * shape.seqLen;
  const latentFrames = shape.frames > 1 ? 1 + Math.floor((shape.frames - 1) / 4) : 1;
  return perGpuBatch * ((shape.width * shape.height) / 256) * latentFrames;
}

/** Memory needed per GPU, with its parts. */
export function estimateMemory(recipe: TrainingRecipe, gpuCount = 1): MemoryBreakdown {
  const params = recipe.model.paramsB * 1e9;
  const weightsBytes = params * weightBytesPerParam(recipe.precision, recipe.quantization);
  let stateBytes: number;
  if (recipe.method === 'full') stateBytes = params * (recipe.precision === 'fp32' ? 12 : 14);
  else stateBytes = params * ADAPTER_FRACTION * 16;
  const tokens = tokensPerGpuMicroBatch(recipe.shape, recipe.batchSize, gpuCount);
  const layersTimesHidden = 0.15 * params ** 0.6;
  const hidden = params ** 0.4 / 1.8;
  let activationBytes = tokens * (layersTimesHidden * 2 + hidden * 34);
  if (recipe.shape.kind === 'seq') activationBytes += tokens * VOCAB_BYTES_PER_TOKEN;
  const weightsGb = weightsBytes / gpuCount / GIB;
  const trainableStateGb = stateBytes / gpuCount / GIB;
  const activationsGb = activationBytes / GIB;
  const subtotal = weightsGb + trainableStateGb + activationsGb + CUDA_CONTEXT_GIB;
  const totalGb = subtotal * FRAGMENTATION;
  return { weightsGb, trainableStateGb, activationsGb, overheadGb: totalGb - subtotal + CUDA_CONTEXT_GIB, totalGb };
}

/** Memory needed per GPU, GB. */
export function estimateMemoryGb(recipe: TrainingRecipe, gpuCount = 1): number {
  return estimateMemory(recipe, gpuCount).totalGb;
}

export type MemoryFit =
  | { ok: true; needGb: number; haveGb: number }
  | { ok: false; needGb: number; haveGb: number; error: EstimateError };

/** '7.4', '38', '1,120'. */
export function formatGb(gb: number): string {
  if (gb < 10) return (Math.round(gb * 10) / 10).toString();
  return Math.round(gb).toLocaleString('en-US');
}

/**
 * Does the recipe fit on `count` × `gpu`? needGb and haveGb are per GPU. A refusal reads
 * "needs ~38 GB, RTX 4090 has 24 GB" (one GPU) or
 * "needs ~95 GB per GPU across 2× RTX 4090, each has 24 GB".
 */
export function checkMemoryFit(recipe: TrainingRecipe, gpu: GpuModel, count = 1): MemoryFit {
  const needGb = estimateMemoryGb(recipe, count);
  const haveGb = gpu.vramGb;
  if (needGb <= haveGb) return { ok: true, needGb, haveGb };
  const message =
    count === 1
      ? `needs ~${formatGb(needGb)} GB, ${gpu.name} has ${formatGb(haveGb)} GB`
      : `needs ~${formatGb(needGb)} GB per GPU across ${count}× ${gpu.name}, each has ${formatGb(haveGb)} GB`;
  return { ok: false, needGb, haveGb, error: estimateError('does_not_fit_memory', message) };
}
