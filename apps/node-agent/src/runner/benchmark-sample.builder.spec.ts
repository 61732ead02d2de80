import { parseBenchmarkSample } from '@anneal/providers';
import { describe, expect, it } from 'vitest';
import { buildAssignment } from '../testing/agent-fixtures.js';
import { RTX_4090 } from '../testing/runner-context.js';
import { BenchmarkObserver, buildBenchmarkSample } from './benchmark-sample.builder.js';

const recipe = buildAssignment('n1', 'a1').attempt.recipe;

function observer(stepTimes: number[], validation: Array<[number, number]> = []): BenchmarkObserver {
  const o = new BenchmarkObserver();
  for (const time of stepTimes) o.onStep(time);
  for (const [prompts, ms] of validation) o.onValidation(prompts, ms);
  return o;
}

describe('buildBenchmarkSample', () => {
  it('reports step time count, mean and unbiased variance without the warm-up step, and validation time per prompt', () => {
    const sample = buildBenchmarkSample({
      recipe,
      gpus: [RTX_4090, { ...RTX_4090, index: 1 }],
      simulated: false,
      exitReason: 'completed',
      observer: observer([5000, 100, 110, 120], [[4, 800], [4, 1000]]),
      sampleId: '3b241101-e2bb-4255-8caf-4136c566a962',
    });
    expect(sample).toEqual({
      schemaVersion: 1,
      sampleId: '3b241101-e2bb-4255-8caf-4136c566a962',
      baseModelId: recipe.baseModelId,
      method: 'lora',
      precision: 'bf16',
      quantization: null,
      sequenceLength: 2048,
      imageMegapixels: null,
      batchSize: 4,
      gradientAccumulation: 2,
      gpuId: 'rtx-4090',
      gpuCount: 2,
      stepTimeMsMean: 110,
      stepTimeMsVariance: 100,
      stepsObserved: 3,
      validationTimePerPromptMsMean: 225,
      validationPromptsObserved: 8,
      simulated: false,
    });
    expect(parseBenchmarkSample(sample).ok).toBe(true);
  });

  it('holds no identifier: only key fields and measurements, a fresh random sampleId each time', () => {
    const input = { recipe, gpus: [RTX_4090], simulated: true, exitReason: 'canceled' as const, observer: observer([10, 20]) };
    const a = buildBenchmarkSample(input)!;
    const b = buildBenchmarkSample(input)!;
    expect(a.sampleId).not.toBe(b.sampleId);
    expect(a.sampleId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Object.keys(a).sort()).toEqual(
      ['schemaVersion', 'sampleId', 'baseModelId', 'method', 'precision', 'quantization', 'sequenceLength', 'imageMegapixels', 'batchSize', 'gradientAccumulation', 'gpuId', 'gpuCount', 'stepTimeMsMean', 'stepTimeMsVariance', 'stepsObserved', 'validationTimePerPromptMsMean', 'validationPromptsObserved', 'simulated'].sort(),
    );
    expect(a).toMatchObject({ simulated: true, stepsObserved: 1, stepTimeMsMean: 20 });
  });

  it('rounds image resolution to 0.5 megapixel', () => {
    const imageRecipe = { ...recipe, sequenceLength: null, imageResolution: { width: 1280, height: 1024 } };
    expect(buildBenchmarkSample({ recipe: imageRecipe, gpus: [RTX_4090], simulated: false, exitReason: 'completed', observer: observer([1, 2]) })?.imageMegapixels).toBe(1.5);
  });

  it('reports nothing when there is nothing honest to report', () => {
    const base = { recipe, gpus: [RTX_4090], simulated: false, exitReason: 'completed' as const, observer: observer([10, 20]) };
    expect(buildBenchmarkSample({ ...base, observer: observer([]) })).toBeNull();
    expect(buildBenchmarkSample({ ...base, exitReason: 'error' })).toBeNull();
    expect(buildBenchmarkSample({ ...base, gpus: [] })).toBeNull();
    expect(buildBenchmarkSample({ ...base, gpus: [{ ...RTX_4090, gpuId: null }] })).toBeNull();
    expect(buildBenchmarkSample({ ...base, gpus: [RTX_4090, { ...RTX_4090, index: 1, gpuId: 'a100-80gb' }] })).toBeNull();
    // a single step is its own sample (no warm-up to drop)
    expect(buildBenchmarkSample({ ...base, observer: observer([42]) })).toMatchObject({ stepsObserved: 1, stepTimeMsMean: 42, stepTimeMsVariance: 0 });
  });
});
