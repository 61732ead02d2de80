import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyStepTimeAggregate } from '../aggregate/aggregate.js';
import { getGpu, gpuTflops } from '../catalog/gpu-catalog.js';
import type { BenchmarkKey } from '../key/benchmark-key.js';
import { aggregateOf, key } from '../testing/fixtures.js';
import { BenchmarkSnapshot } from './snapshot.js';
import { DEFAULT_TUNING, activeParamsB, catalogSpeedLog, describeDifference, estimateStepTime, flopsPerStep, priorStepTimeMs, scaleLog } from './step-time.js';

function snapshotOf(...items: Array<[Partial<BenchmarkKey>, number[]]>): BenchmarkSnapshot {
  return BenchmarkSnapshot.build({ stepTimes: items.map(([k, values]) => ({ key: key(k), aggregate: aggregateOf(...values) })) });
}

describe('estimateStepTime: the fallback chain', () => {
  it('1. exact: the median of the runs, with their spread', () => {
    const estimate = estimateStepTime(key(), snapshotOf([{}, [900, 1000, 1100]]));
    expect(estimate.basis).toBe('exact');
    expect(estimate.basisText).toBe('from 3 runs like this');
    expect(estimate.sampleCount).toBe(3);
    expect(estimate.p50Ms).toBeCloseTo(Math.exp((Math.log(900) + Math.log(1000) + Math.log(1100)) / 3), 9);
    expect(estimate.p10Ms).toBeLessThan(estimate.p50Ms);
    expect(estimate.p90Ms).toBeGreaterThan(estimate.p50Ms);
    expect(estimateStepTime(key(), snapshotOf([{}, [1000]])).basisText).toBe('from 1 run like this');
  });

  it('exact carries the validation time of the key', () => {
    const snapshot = BenchmarkSnapshot.build();
    snapshot.merge(key(), { ...aggregateOf(1000), validationMsPerPrompt: { count: 1, mean: 700, m2: 0 } });
    expect(estimateStepTime(key(), snapshot).validationMsPerPrompt).toBe(700);
  });

  it('2. scaled: from another batch on the same GPU, by work per step', () => {
    const estimate = estimateStepTime(key({ batchSize: 16 }), snapshotOf([{ batchSize: 8 }, [1000, 1000]]));
    expect(estimate.basis).toBe('scaled');
    expect(estimate.basisText).toBe('scaled from batch 8 on the same GPU');
    expect(estimate.p50Ms).toBeCloseTo(1000 * 2 ** DEFAULT_TUNING.workExponent, 6);
    expect(estimate.sampleCount).toBe(2);
  });

  it('scaled names every difference and the other keys used', () => {
    const estimate = estimateStepTime(
      key({ batchSize: 16 }),
      snapshotOf([{ batchSize: 4, gradAccum: 2, shape: { kind: 'seq', seqLen: 4096 }, gpuCount: 2 }, [1000]], [{ batchSize: 8 }, [1000]]),
    );
    expect(estimate.basisText).toBe('scaled from batch 8 on the same GPU (and 1 other key)');
    const countOnly = estimateStepTime(key(), snapshotOf([{ gpuCount: 2, batchSize: 16 }, [1000]]));
    expect(countOnly.basisText).toBe('scaled from batch 16, 2 GPUs on the same GPU model');
  });

  it('3. transferred: through relative speed learned from shared keys', () => {
    const snapshot = snapshotOf(
      // Shared workloads: the 4090 takes twice the A100's time.
      [{ shape: { kind: 'seq', seqLen: 1024 } }, [2000]],
      [{ shape: { kind: 'seq', seqLen: 1024 }, gpuId: 'a100-80gb-sxm' }, [1000]],
      [{ shape: { kind: 'seq', seqLen: 4096 } }, [8000]],
      [{ shape: { kind: 'seq', seqLen: 4096 }, gpuId: 'a100-80gb-sxm' }, [4000]],
    );
    const target = key({ gpuId: 'rtx-4090', family: 'qwen2.5', paramsB: 7.62 });
    snapshot.merge(key({ gpuId: 'a100-80gb-sxm', family: 'qwen2.5', paramsB: 7.62 }), aggregateOf(1500));
    // A shared workload of the new recipe on a third GPU is not needed: the pair was learned on llama.
    const other = snapshotOf(
      [{ family: 'qwen2.5', paramsB: 7.62, gpuId: 'a100-80gb-sxm' }, [1500]],
      [{ shape: { kind: 'seq', seqLen: 1024 } }, [2000]],
      [{ shape: { kind: 'seq', seqLen: 1024 }, gpuId: 'a100-80gb-sxm' }, [1000]],
    );
    // Relative speeds are learned per workload group, so they transfer across recipes.
    const estimate = estimateStepTime(target, other);
    expect(estimate.basis).toBe('transferred');
    expect(estimate.basisText).toBe('transferred from A100 80GB SXM via 1 shared key');
    expect(estimate.p50Ms).toBeCloseTo(3000, 6);
    expect(estimate.sampleCount).toBe(1);
    expect(estimateStepTime(target, snapshot).basis).toBe('transferred');
  });

  it('transferred falls back to catalog specs, and says so', () => {
    const estimate = estimateStepTime(key({ gpuId: 'h100-sxm' }), snapshotOf([{ gpuId: 'rtx-4090', batchSize: 4 }, [1000]]));
    expect(estimate.basis).toBe('transferred');
    expect(estimate.basisText).toBe('transferred from RTX 4090 via catalog specs (compute and memory bandwidth), scaled from batch 4');
    expect(estimate.p50Ms).toBeLessThan(1000 * 2);
  });

  it('transferred combines several source GPUs', () => {
    const estimate = estimateStepTime(key({ gpuId: 'h100-sxm' }), snapshotOf([{ gpuId: 'rtx-4090' }, [1000]], [{ gpuId: 'l40s' }, [900]]));
    expect(estimate.basisText).toMatch(/\(and 1 other GPU\)$/);
    expect(estimate.sampleCount).toBe(2);
  });

  it('image transfers by catalog are less sure than text ones', () => {
    const image = { shape: { kind: 'image' as const, megapixels: 1, frames: 1 }, family: 'flux.1', paramsB: 11.9 };
    const text = estimateStepTime(key({ gpuId: 'h100-sxm' }), snapshotOf([{ gpuId: 'l40s' }, [1000]]));
    const img = estimateStepTime(key({ ...image, gpuId: 'h100-sxm' }), snapshotOf([{ ...image, gpuId: 'l40s' }, [1000]]));
    expect(img.sigma).toBeGreaterThan(text.sigma);
  });

  it('4. prior: FLOP count at a stated utilisation', () => {
    const k = key({ gpuId: 'h100-sxm', method: 'full', batchSize: 8, gradAccum: 4, shape: { kind: 'seq', seqLen: 4096 } });
    const estimate = estimateStepTime(k, BenchmarkSnapshot.build());
    expect(estimate.basis).toBe('prior');
    expect(estimate.basisText).toBe('FLOP-count prior at 40% utilisation');
    expect(estimate.sampleCount).toBe(0);
    const flops = 6 * 8.03e9 * 8 * 4 * 4096;
    expect(estimate.p50Ms).toBeCloseTo((flops / (989e12 * 0.4)) * 1000, 6);
  });

  it('the prior: LoRA ≈ 4N, QLoRA slower, full 6N; MoE counts active parameters; images count latent tokens', () => {
    expect(flopsPerStep(key({ method: 'lora' })) / flopsPerStep(key({ method: 'full' }))).toBeCloseTo(4 / 6, 12);
    expect(flopsPerStep(key({ method: 'qlora', quantization: 'nf4' }))).toBeGreaterThan(flopsPerStep(key({ method: 'lora' })));
    expect(activeParamsB('mixtral', 46.7)).toBe(12.9);
    expect(activeParamsB('custom', 13)).toBe(13);
    const image = key({ family: 'flux.1', paramsB: 11.9, shape: { kind: 'image', megapixels: 1, frames: 1 }, batchSize: 1 });
    expect(flopsPerStep(image)).toBeCloseTo(4 * 11.9e9 * (1e6 / 256), 0);
    const video = key({ family: 'wan-2.1', paramsB: 1.3, shape: { kind: 'image', megapixels: 0.5, frames: 81 }, batchSize: 1 });
    expect(flopsPerStep(video)).toBeCloseTo(4 * 1.3e9 * (0.5e6 / 256) * 21, 0);
    const fp32 = priorStepTimeMs(key({ precision: 'fp32' }), getGpu('rtx-4090'));
    const bf16 = priorStepTimeMs(key(), getGpu('rtx-4090'));
    expect(fp32.ms).toBeGreaterThan(bf16.ms);
  });

  it('helpers: scaling, catalog ratio, differences', () => {
    expect(scaleLog({ work: 100, count: 1 }, { work: 100, count: 1 })).toBe(0);
    expect(scaleLog({ work: 100, count: 1 }, { work: 200, count: 2 })).toBeCloseTo(DEFAULT_TUNING.countPenaltyExponent * Math.log(2), 12);
    const h100 = getGpu('h100-sxm');
    const a100 = getGpu('a100-80gb-sxm');
    expect(catalogSpeedLog(h100, a100, { precision: 'bf16' }, { computeWeight: 1, bandwidthWeight: 0 })).toBeCloseTo(Math.log(gpuTflops(a100, 'bf16') / gpuTflops(h100, 'bf16')), 12);
    expect(describeDifference(key({ gradAccum: 2 }), key())).toBe('batch 8 × accumulation 2');
    expect(describeDifference(key({ shape: { kind: 'image', megapixels: 0.5, frames: 81 } }), key())).toBe('0.5 MP × 81 frames');
    expect(describeDifference(key({ shape: { kind: 'image', megapixels: 1, frames: 1 } }), key())).toBe('1.0 MP');
    expect(describeDifference(key(), key())).toBe('');
  });
});

describe('estimateStepTime invariants', () => {
  const gpus = ['rtx-4090', 'l40s', 'a100-80gb-sxm', 'h100-sxm', 't4', 'mi300x'];
  const item = fc.record({
    gpuId: fc.constantFrom(...gpus),
    batchSize: fc.constantFrom(1, 2, 4, 8, 16),
    gradAccum: fc.constantFrom(1, 2, 4),
    seq: fc.constantFrom(512, 1024, 2048, 4096),
    gpuCount: fc.constantFrom(1, 2, 8),
    ms: fc.array(fc.double({ min: 1, max: 1e5, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 4 }),
  });
  const target = fc.record({
    gpuId: fc.constantFrom(...gpus),
    batchSize: fc.integer({ min: 1, max: 64 }),
    gradAccum: fc.integer({ min: 1, max: 8 }),
    seq: fc.constantFrom(256, 512, 1024, 2048, 4096, 8192),
    gpuCount: fc.constantFrom(1, 2, 4, 8),
    method: fc.constantFrom('lora' as const, 'qlora' as const, 'full' as const),
    precision: fc.constantFrom('bf16' as const, 'fp16' as const, 'fp32' as const, 'fp8' as const),
  });

  it('property: p10 ≤ p50 ≤ p90, all positive and finite, with a basis and a sentence', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), target, (items, t) => {
        const snapshot = BenchmarkSnapshot.build({
          stepTimes: items.map((i) => ({ key: key({ gpuId: i.gpuId, batchSize: i.batchSize, gradAccum: i.gradAccum, gpuCount: i.gpuCount, shape: { kind: 'seq', seqLen: i.seq } }), aggregate: aggregateOf(...i.ms) })),
        });
        const k = key({ ...t, shape: { kind: 'seq', seqLen: t.seq }, quantization: t.method === 'qlora' ? 'nf4' : 'none' });
        const e = estimateStepTime(k, snapshot);
        expect(Number.isFinite(e.p10Ms) && Number.isFinite(e.p90Ms)).toBe(true);
        expect(e.p10Ms).toBeGreaterThan(0);
        expect(e.p10Ms).toBeLessThanOrEqual(e.p50Ms);
        expect(e.p50Ms).toBeLessThanOrEqual(e.p90Ms);
        expect(['exact', 'scaled', 'transferred', 'prior']).toContain(e.basis);
        expect(e.basisText.length).toBeGreaterThan(10);
        expect(e.sampleCount).toBeGreaterThanOrEqual(e.basis === 'prior' ? 0 : 1);
      }),
    );
  });

  it('property: on the same GPU, more work per step is never estimated faster', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1e5, noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), (ms, b1, b2) => {
        const snapshot = snapshotOf([{ batchSize: 8 }, [ms]]);
        const [small, large] = b1 <= b2 ? [b1, b2] : [b2, b1];
        if (small === 8 || large === 8) return;
        expect(estimateStepTime(key({ batchSize: large }), snapshot).p50Ms).toBeGreaterThanOrEqual(estimateStepTime(key({ batchSize: small }), snapshot).p50Ms);
      }),
    );
  });

  it('ignores empty aggregates and stored keys of GPUs the catalog no longer has', () => {
    const snapshot = BenchmarkSnapshot.build({
      stepTimes: [
        { key: key({ batchSize: 4 }), aggregate: emptyStepTimeAggregate() },
        { key: key({ gpuId: 'l40s' }), aggregate: emptyStepTimeAggregate() },
        { key: key({ gpuId: 'future-gpu' }), aggregate: aggregateOf(1000) },
      ],
    });
    expect(estimateStepTime(key(), snapshot).basis).toBe('prior');
  });

  it('throws for a GPU id outside the catalog (callers resolve GPUs first)', () => {
    expect(() => estimateStepTime(key({ gpuId: 'nope' }), BenchmarkSnapshot.build())).toThrow(/unknown GPU id/);
  });
});
