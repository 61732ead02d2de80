import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { momentsOf } from '../aggregate/aggregate.js';
import { getGpu } from '../catalog/gpu-catalog.js';
import { recipeKey, type RecipeInput } from '../key/recipe.js';
import { aggregateOf, key, recipe } from '../testing/fixtures.js';
import { catalogTimeRatio, defaultValidationMsPerPrompt, estimateOffer, estimateOffers, prepareJob, provisioningSeconds, type JobInput, type Offer } from './estimator.js';
import { BenchmarkSnapshot } from './snapshot.js';

const recipeInput: RecipeInput = { modelId: 'meta-llama/Llama-3.1-8B', method: 'lora', seqLen: 2048, batchSize: 2 };
const job: JobInput = { recipe: recipeInput, steps: 1000 };
const offer: Offer = { gpuId: 'rtx-4090', gpuCount: 1, priceMicrosPerGpuHour: 690_000n, providerKind: 'community' };

function snapshot(): BenchmarkSnapshot {
  return BenchmarkSnapshot.build({ stepTimes: [{ key: key({ batchSize: 2 }), aggregate: aggregateOf(2000, 2100, 2200) }], provisioning: [{ providerKind: 'community', aggregate: momentsOf([100, 120, 140]) }] });
}

function value<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe('estimateOffer', () => {
  it('adds steps × step time, validation and provisioning, and prices it', () => {
    const e = value(estimateOffer({ ...job, validation: { runs: 2, promptsPerRun: 4 } }, offer, snapshot()));
    expect(e.basis).toBe('exact');
    expect(e.basisText).toBe('from 3 runs like this');
    expect(e.sampleCount).toBe(3);
    expect(e.steps).toBe(1000);
    expect(e.key).toBe('llama-3/8.03b/lora|rtx-4090x1|seq2048|b2|ga1|bf16|none');
    expect(e.breakdownSeconds.training).toBeCloseTo(e.stepTimeMs.p50, 6);
    expect(e.breakdownSeconds.validation).toBeGreaterThan(0);
    expect(e.breakdownSeconds.provisioning).toBeGreaterThan(100);
    expect(e.runtimeSeconds.p50).toBeCloseTo(e.breakdownSeconds.training + e.breakdownSeconds.validation + e.breakdownSeconds.provisioning, 6);
    expect(e.costMicros.p50).toBe(BigInt(Math.ceil((Math.ceil(e.runtimeSeconds.p50 * 1000) * 690_000) / 3_600_000)));
    expect(e.summary).toMatch(/^~\d+ min, ~\$\d+\.\d\d on 1× RTX 4090 \(community\)$/);
    expect(e.memory.haveGb).toBe(24);
    expect(e.gpu).toEqual({ id: 'rtx-4090', name: 'RTX 4090' });
  });

  it('derives steps from the dataset', () => {
    const e = value(estimateOffer({ recipe: job.recipe, dataset: { samples: 10_000 }, epochs: 2 }, offer, snapshot()));
    expect(e.steps).toBe(10_000);
    const byTokens = value(estimateOffer({ recipe: job.recipe, dataset: { tokens: 4_096_000 } }, offer, snapshot()));
    expect(byTokens.steps).toBe(1000);
  });

  it('derives steps for image recipes from samples', () => {
    const flux = { modelId: 'black-forest-labs/FLUX.1-dev', method: 'lora', precision: 'bf16', quantization: 'fp8', batchSize: 1 };
    const e = value(estimateOffer({ recipe: flux, dataset: { samples: 40 }, epochs: 10 }, { ...offer, gpuId: 'h100-sxm' }, snapshot()));
    expect(e.steps).toBe(400);
    expect(e.basis).toBe('prior');
    const tokens = estimateOffer({ recipe: flux, dataset: { tokens: 1000 } }, { ...offer, gpuId: 'h100-sxm' }, snapshot());
    expect(!tokens.ok && tokens.error.code).toBe('invalid_shape');
  });

  it('accepts a resolved recipe and a prepared job', () => {
    const prepared = value(prepareJob({ recipe: recipe({ batchSize: 2 }), steps: 10 }));
    expect(value(estimateOffer(prepared, offer, snapshot())).steps).toBe(10);
    expect(value(estimateOffer({ recipe: recipe({ batchSize: 2 }), steps: 10 }, offer, snapshot())).steps).toBe(10);
  });

  it.each<[Partial<JobInput>, string]>([
    [{ steps: 0 }, 'invalid_steps'],
    [{ steps: 20_000_000 }, 'invalid_steps'],
    [{ steps: undefined }, 'invalid_steps'],
    [{ recipe: { ...recipeInput, modelId: 'acme/unknown' } }, 'unknown_model'],
    [{ validation: { runs: -1, promptsPerRun: 1 } }, 'invalid_validation'],
    [{ steps: undefined, dataset: { samples: 0 } }, 'invalid_dataset'],
  ])('job errors: %j → %s', (overrides, code) => {
    const result = estimateOffer({ ...job, ...overrides }, offer, snapshot());
    expect(!result.ok && result.error.code).toBe(code);
  });

  it.each<[string, Partial<Offer>, string]>([
    ['unknown GPU', { gpuId: 'RTX 9090' }, 'unknown_gpu'],
    ['zero GPUs', { gpuCount: 0 }, 'invalid_gpu_count'],
    ['negative price', { priceMicrosPerGpuHour: -5n }, 'invalid_price'],
  ])('offer errors: %s → %s', (_, overrides, code) => {
    const result = estimateOffer(job, { ...offer, ...overrides }, snapshot());
    expect(!result.ok && result.error.code).toBe(code);
  });

  it('refuses offers the recipe does not fit on, with figures', () => {
    const result = estimateOffer({ ...job, recipe: { ...recipeInput, method: 'full' } }, offer, snapshot());
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe('does_not_fit_memory');
    expect(!result.ok && result.error.message).toMatch(/^needs ~\d+ GB, RTX 4090 has 24 GB$/);
  });

  it('takes GPU names as well as ids', () => {
    expect(value(estimateOffer(job, { ...offer, gpuId: 'NVIDIA GeForce RTX 4090' }, snapshot())).gpu.id).toBe('rtx-4090');
  });
});

describe('estimateOffers', () => {
  it('estimates many offers in order, each with its own errors', () => {
    const offers: Offer[] = [offer, { ...offer, gpuId: 'bogus' }, { ...offer, gpuId: 'h100-sxm', gpuCount: 8, providerKind: 'gcp', priceMicrosPerGpuHour: 3_000_000 }, offer];
    const results = estimateOffers(job, offers, snapshot());
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true]);
    expect(results[0]).toEqual(results[3]);
    const h100 = value(results[2]!);
    expect(h100.basis).toBe('transferred');
    expect(h100.summary).toMatch(/on 8× H100 SXM \(gcp\)$/);
  });

  it('a job error is every offer\'s error', () => {
    const results = estimateOffers({ ...job, steps: -1 }, [offer, offer], snapshot());
    expect(results.every((r) => !r.ok && r.error.code === 'invalid_steps')).toBe(true);
  });

  it('property: p10 ≤ p50 ≤ p90 for step time, runtime and cost', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom('rtx-4090', 'h100-sxm', 'l40s', 't4', 'mi300x'), fc.integer({ min: 1, max: 8 }), fc.bigInt({ min: 0n, max: 10n ** 8n }), (steps, gpuId, gpuCount, price) => {
        const [r] = estimateOffers({ ...job, steps, validation: { runs: 1, promptsPerRun: 2 } }, [{ gpuId, gpuCount, priceMicrosPerGpuHour: price, providerKind: 'runpod' }], snapshot());
        if (!r!.ok) {
          expect(r!.error.code).toBe('does_not_fit_memory');
          return;
        }
        const e = r!.value;
        expect(e.stepTimeMs.p10).toBeLessThanOrEqual(e.stepTimeMs.p50);
        expect(e.stepTimeMs.p50).toBeLessThanOrEqual(e.stepTimeMs.p90);
        expect(e.runtimeSeconds.p10).toBeLessThanOrEqual(e.runtimeSeconds.p50);
        expect(e.runtimeSeconds.p50).toBeLessThanOrEqual(e.runtimeSeconds.p90);
        expect(e.costMicros.p10 <= e.costMicros.p50 && e.costMicros.p50 <= e.costMicros.p90).toBe(true);
      }),
    );
  });

  it('property: cost is monotone in price', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.integer({ min: 1, max: 100_000 }), (a, b, steps) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const results = estimateOffers({ ...job, steps }, [{ ...offer, priceMicrosPerGpuHour: low }, { ...offer, priceMicrosPerGpuHour: high }], snapshot());
        const [x, y] = results.map((r) => value(r));
        for (const q of ['p10', 'p50', 'p90'] as const) expect(x!.costMicros[q] <= y!.costMicros[q]).toBe(true);
      }),
    );
  });

  it('property: more steps are never cheaper nor shorter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000_000 }), fc.integer({ min: 0, max: 5_000_000 }), fc.constantFrom('rtx-4090', 'h100-sxm', 'a10g'), (steps, more, gpuId) => {
        const a = value(estimateOffer({ ...job, steps }, { ...offer, gpuId }, snapshot()));
        const b = value(estimateOffer({ ...job, steps: steps + more }, { ...offer, gpuId }, snapshot()));
        for (const q of ['p10', 'p50', 'p90'] as const) {
          expect(b.runtimeSeconds[q]).toBeGreaterThanOrEqual(a.runtimeSeconds[q]);
          expect(b.costMicros[q] >= a.costMicros[q]).toBe(true);
        }
      }),
    );
  });
});

describe('overheads', () => {
  it('provisioning: learned per provider kind, else a default', () => {
    const learned = provisioningSeconds(snapshot(), 'community');
    expect(learned.learnedFrom).toBe(3);
    expect(learned.p50).toBeGreaterThan(110);
    expect(learned.p50).toBeLessThan(125);
    const single = BenchmarkSnapshot.build({ provisioning: [{ providerKind: 'gcp', aggregate: momentsOf([200]) }] });
    expect(provisioningSeconds(single, 'gcp').learnedFrom).toBe(1);
    expect(provisioningSeconds(snapshot(), 'gcp')).toMatchObject({ p50: 300, learnedFrom: 0 });
    expect(provisioningSeconds(snapshot(), 'somewhere-else').p50).toBe(180);
  });

  it('validation per prompt: from the key, else a rough default by modality', () => {
    const withValidation = BenchmarkSnapshot.build({ stepTimes: [{ key: key({ batchSize: 2 }), aggregate: { ...aggregateOf(2000), validationMsPerPrompt: momentsOf([3000]) } }] });
    const e = value(estimateOffer({ ...job, validation: { runs: 1, promptsPerRun: 10 } }, offer, withValidation));
    expect(e.breakdownSeconds.validation).toBeCloseTo(30, 6);
    const text = defaultValidationMsPerPrompt(recipeKey(recipe(), 'rtx-4090', 1), getGpu('rtx-4090'), 8.03);
    expect(text).toBeGreaterThan(1000);
    expect(text).toBeLessThan(20_000);
    const q = defaultValidationMsPerPrompt(recipeKey(recipe({ method: 'qlora' }), 'rtx-4090', 1), getGpu('rtx-4090'), 8.03);
    expect(q).toBeLessThan(text);
    const flux = recipe({ modelId: 'black-forest-labs/FLUX.1-dev', batchSize: 1 });
    const image = defaultValidationMsPerPrompt(recipeKey(flux, 'h100-sxm', 1), getGpu('h100-sxm'), 11.9);
    expect(image).toBeGreaterThan(1000);
    const video = defaultValidationMsPerPrompt(recipeKey(recipe({ modelId: 'Wan-AI/Wan2.1-T2V-1.3B', batchSize: 1, frames: 81, resolution: { width: 832, height: 480 } }), 'h100-sxm', 1), getGpu('h100-sxm'), 1.3);
    expect(video).toBeGreaterThan(0);
  });

  it('catalog time ratio for display', () => {
    expect(catalogTimeRatio('h100-sxm', 'a100-80gb-sxm')).toBeLessThan(1);
    expect(catalogTimeRatio('t4', 't4')).toBe(1);
  });
});
