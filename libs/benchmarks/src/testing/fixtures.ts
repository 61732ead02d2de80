import { aggregateRun, mergeAggregates, type StepTimeAggregate } from '../aggregate/aggregate.js';
import { makeKey, type BenchmarkKey } from '../key/benchmark-key.js';
import { resolveRecipe, type RecipeInput, type TrainingRecipe } from '../key/recipe.js';

/** A Llama 3.1 8B LoRA key on one RTX 4090; override any field. */
export function key(overrides: Partial<BenchmarkKey> = {}): BenchmarkKey {
  return makeKey({
    family: 'llama-3',
    paramsB: 8.03,
    method: 'lora',
    gpuId: 'rtx-4090',
    gpuCount: 1,
    shape: { kind: 'seq', seqLen: 2048 },
    batchSize: 8,
    gradAccum: 1,
    precision: 'bf16',
    quantization: 'none',
    ...overrides,
  });
}

/** An aggregate of runs with these step times. */
export function aggregateOf(...stepTimesMs: number[]): StepTimeAggregate {
  return stepTimesMs.map((ms) => aggregateRun({ stepTimeMs: ms, stepsObserved: 100 })).reduce((a, b) => mergeAggregates(a, b));
}

export function recipe(overrides: Partial<RecipeInput> = {}): TrainingRecipe {
  const resolved = resolveRecipe({ modelId: 'meta-llama/Llama-3.1-8B', method: 'lora', seqLen: 2048, batchSize: 8, ...overrides });
  if (!resolved.ok) throw new Error(resolved.error.message);
  return resolved.value;
}
