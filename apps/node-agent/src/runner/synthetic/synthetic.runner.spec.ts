import { describe, expect, it } from 'vitest';
import { buildAssignment } from '../../testing/agent-fixtures.js';
import { modelConfig, MAX_SYNTHETIC_STEPS, totalStepsFor } from './synthetic.runner.js';

const recipe = buildAssignment('n1', 'a1', { steps: 10 }).attempt.recipe;

describe('synthetic runner configuration', () => {
  it('takes seed, learning rate and tokens per step from the recipe, with bounded defaults', () => {
    expect(modelConfig(recipe)).toMatchObject({ seed: 42, learningRate: 0.01, tokensPerStep: 4 * 2 * 16 });
    expect(modelConfig({ ...recipe, hyperparameters: { seed: 9, syntheticLearningRate: 0.05, syntheticTokensPerStep: 64 } })).toMatchObject({ seed: 9, learningRate: 0.05, tokensPerStep: 64 });
    expect(modelConfig({ ...recipe, batchSize: 512, gradientAccumulation: 64 }).tokensPerStep).toBe(1024);
    expect(modelConfig({ ...recipe, hyperparameters: { seed: -1, syntheticLearningRate: 'fast' } })).toMatchObject({ seed: 42, learningRate: 0.01 });
  });

  it('uses the recipe steps, or epochs over the text', () => {
    expect(totalStepsFor(recipe, 10_000, 100)).toBe(10);
    expect(totalStepsFor({ ...recipe, steps: null, epochs: 2 }, 10_000, 100)).toBe(200);
    expect(totalStepsFor({ ...recipe, steps: null, epochs: 1000 }, 10_000_000, 16)).toBe(MAX_SYNTHETIC_STEPS);
  });
});
