import { randomUUID } from 'node:crypto';
import { roundMegapixels, type AttemptRecipe, type BenchmarkSample, type ExitReason, type GpuTelemetry } from '@anneal/providers';
import { RunningStats } from './step-stats.js';

/**
 * Collects what the benchmark sample of an attempt needs from its step and validation events: step
 * times (the first step of the attempt is left out as warm-up once a second one arrives: it carries
 * data loading, compilation and cache warm-up), validation time per prompt.
 */
export class BenchmarkObserver {
  private readonly stepTimes = new RunningStats();
  private firstStepTimeMs: number | null = null;
  private sawFirst = false;
  validationPrompts = 0;
  validationTimeMs = 0;

  onStep(stepTimeMs: number): void {
    if (!this.sawFirst) {
      this.sawFirst = true;
      this.firstStepTimeMs = stepTimeMs;
      return;
    }
    this.stepTimes.add(stepTimeMs);
  }

  onValidation(promptCount: number, totalTimeMs: number): void {
    this.validationPrompts += promptCount;
    this.validationTimeMs += totalTimeMs;
  }

  /** Step time statistics: all steps but the first, or the first alone when it is the only one. */
  stepStats(): { count: number; mean: number; variance: number } {
    if (this.stepTimes.count === 0 && this.firstStepTimeMs !== null) return { count: 1, mean: this.firstStepTimeMs, variance: 0 };
    return { count: this.stepTimes.count, mean: this.stepTimes.mean, variance: this.stepTimes.variance };
  }
}

export interface BenchmarkSampleInput {
  recipe: AttemptRecipe;
  /** The GPUs the attempt ran on. */
  gpus: readonly GpuTelemetry[];
  simulated: boolean;
  exitReason: ExitReason;
  observer: BenchmarkObserver;
  /** Random per sample; injectable for tests. */
  sampleId?: string;
}

/**
 * The anonymized benchmark sample of a finished attempt, or null when there is nothing honest to
 * report: no step observed, an attempt that failed with an error, no GPU, GPUs outside the catalog,
 * or a mix of GPU models (no single hardware profile). It holds the benchmark key's inputs and the
 * measurements only: no user, org, job, attempt, node, dataset or address field (the schema is
 * strict), and `sampleId` is a fresh random UUID unrelated to any of them.
 */
export function buildBenchmarkSample(input: BenchmarkSampleInput): BenchmarkSample | null {
  if (input.exitReason === 'error') return null;
  const stats = input.observer.stepStats();
  if (stats.count < 1) return null;
  const gpuIds = new Set(input.gpus.map((gpu) => gpu.gpuId));
  const gpuId = [...gpuIds][0];
  if (gpuIds.size !== 1 || !gpuId) return null;
  const { recipe } = input;
  const prompts = input.observer.validationPrompts;
  return {
    schemaVersion: 1,
    sampleId: input.sampleId ?? randomUUID(),
    baseModelId: recipe.baseModelId,
    method: recipe.method,
    precision: recipe.precision,
    quantization: recipe.quantization,
    sequenceLength: recipe.sequenceLength,
    imageMegapixels: recipe.imageResolution ? roundMegapixels(recipe.imageResolution.width, recipe.imageResolution.height) : null,
    batchSize: recipe.batchSize,
    gradientAccumulation: recipe.gradientAccumulation,
    gpuId,
    gpuCount: input.gpus.length,
    stepTimeMsMean: stats.mean,
    stepTimeMsVariance: stats.variance,
    stepsObserved: stats.count,
    validationTimePerPromptMsMean: prompts > 0 ? input.observer.validationTimeMs / prompts : null,
    validationPromptsObserved: prompts,
    simulated: input.simulated,
  };
}
