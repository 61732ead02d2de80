import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { momentsOf } from '../aggregate/aggregate.js';
import { getGpu, gpuTflops } from '../catalog/gpu-catalog.js';
import { keyToString } from '../key/benchmark-key.js';
import { aggregateOf, key } from '../testing/fixtures.js';
import { BenchmarkSnapshot, DEFAULT_CATALOG_CALIBRATION, logSd } from './snapshot.js';

describe('BenchmarkSnapshot', () => {
  it('indexes aggregates by key string and merges repeated keys', () => {
    const k = key();
    const snapshot = BenchmarkSnapshot.build({ stepTimes: [{ key: k, aggregate: aggregateOf(100) }, { key: keyToString(k), aggregate: aggregateOf(300) }] });
    expect(snapshot.size).toBe(1);
    expect(snapshot.get(k)?.stepTimeMs.mean).toBe(200);
    expect(snapshot.get(keyToString(k))?.stepTimeMs.count).toBe(2);
    expect(snapshot.entry(keyToString(k))?.work).toBe(8 * 2048);
    expect([...snapshot.entries()]).toHaveLength(1);
    expect(snapshot.version).toBe(0);
  });

  it('merges live updates and bumps its version', () => {
    const snapshot = BenchmarkSnapshot.build();
    expect(snapshot.merge(key(), aggregateOf(100))).toBe(true);
    expect(snapshot.merge(key(), aggregateOf(200))).toBe(true);
    expect(snapshot.get(key())?.stepTimeMs).toEqual(aggregateOf(100, 200).stepTimeMs);
    expect(snapshot.version).toBe(2);
    expect(snapshot.merge('not a key', aggregateOf(1))).toBe(false);
    expect(snapshot.size).toBe(1);
  });

  it('finds same-GPU neighbours and other GPUs of a recipe', () => {
    const snapshot = BenchmarkSnapshot.build({
      stepTimes: [
        { key: key({ batchSize: 4 }), aggregate: aggregateOf(1) },
        { key: key({ batchSize: 16, gpuCount: 2 }), aggregate: aggregateOf(1) },
        { key: key({ gpuId: 'l40s' }), aggregate: aggregateOf(1) },
        { key: key({ precision: 'fp16' }), aggregate: aggregateOf(1) },
      ],
    });
    expect(snapshot.sameGpuNeighbours(key()).map((e) => e.key.batchSize)).toEqual([4, 16]);
    expect([...snapshot.recipeGroupByGpu(key()).keys()]).toEqual(['rtx-4090', 'l40s']);
    expect(snapshot.recipeGroupByGpu(key({ family: 'qwen2.5' })).size).toBe(0);
  });

  it('learns relative speed per unit of work from shared workloads', () => {
    // On two workloads the A100 takes half the time of the 4090 per unit of work.
    const snapshot = BenchmarkSnapshot.build({
      stepTimes: [
        { key: key({ batchSize: 8 }), aggregate: aggregateOf(1000) },
        { key: key({ gpuId: 'a100-80gb-sxm', batchSize: 16 }), aggregate: aggregateOf(1000) },
        { key: key({ shape: { kind: 'seq', seqLen: 4096 } }), aggregate: aggregateOf(2000) },
        { key: key({ gpuId: 'a100-80gb-sxm', shape: { kind: 'seq', seqLen: 4096 } }), aggregate: aggregateOf(1000) },
      ],
    });
    const speed = snapshot.relativeSpeed('rtx-4090', 'a100-80gb-sxm', key());
    expect(speed).toMatchObject({ sharedKeys: 2, context: 'seq|half' });
    expect(speed?.logRatio).toBeCloseTo(Math.log(2), 12);
    expect(speed?.logSd).toBeCloseTo(0, 12);
    expect(snapshot.relativeSpeed('a100-80gb-sxm', 'rtx-4090', key())?.logRatio).toBeCloseTo(-Math.log(2), 12);
    // Same precision class, other shape kind: falls back to the class.
    expect(snapshot.relativeSpeed('rtx-4090', 'a100-80gb-sxm', key({ shape: { kind: 'image', megapixels: 1, frames: 1 } }))?.context).toBe('half');
    expect(snapshot.relativeSpeed('rtx-4090', 'a100-80gb-sxm', key({ precision: 'fp32' }))).toBeUndefined();
    expect(snapshot.relativeSpeed('rtx-4090', 'rtx-4090', key())?.logRatio).toBe(0);
    expect(snapshot.learnedPairs().length).toBe(2);
  });

  it('property: live merges give the same relative speeds as building at once', () => {
    const gpus = ['rtx-4090', 'l40s', 'a100-80gb-sxm', 'h100-sxm'];
    const entry = fc.record({
      gpu: fc.constantFrom(...gpus),
      batch: fc.constantFrom(1, 2, 8),
      seq: fc.constantFrom(1024, 2048),
      ms: fc.double({ min: 10, max: 10_000, noNaN: true, noDefaultInfinity: true }),
    });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 30 }), (entries) => {
        const items = entries.map((e) => ({ key: key({ gpuId: e.gpu, batchSize: e.batch, shape: { kind: 'seq', seqLen: e.seq } }), aggregate: aggregateOf(e.ms) }));
        const built = BenchmarkSnapshot.build({ stepTimes: items });
        const live = BenchmarkSnapshot.build();
        for (const item of items) live.merge(item.key, item.aggregate);
        for (const a of gpus) {
          for (const b of gpus) {
            const x = built.relativeSpeed(a, b, key());
            const y = live.relativeSpeed(a, b, key());
            expect(x === undefined).toBe(y === undefined);
            if (x && y) {
              expect(y.sharedKeys).toBe(x.sharedKeys);
              expect(y.logRatio).toBeCloseTo(x.logRatio, 9);
            }
          }
        }
      }),
    );
  });

  it('fits the catalog calibration from learned pairs, else falls back to the default', () => {
    const gpus = ['rtx-4090', 'l40s', 'a100-80gb-sxm', 'h100-sxm', 'rtx-3090', 'v100-16gb', 'b200'];
    // Synthetic truth: log t ∝ −0.3·log TFLOPs − 0.5·log bandwidth.
    const logTime = (id: string) => -0.3 * Math.log(gpuTflops(getGpu(id), 'bf16')) - 0.5 * Math.log(getGpu(id).memoryBandwidthGbps);
    const items = gpus.map((gpuId) => ({ key: key({ gpuId }), aggregate: aggregateOf(1000 * Math.exp(logTime(gpuId))) }));
    const snapshot = BenchmarkSnapshot.build({ stepTimes: items });
    const fit = snapshot.catalogCalibration(key());
    expect(fit.context).toBe('seq|half');
    expect(fit.pairs).toBe(21);
    expect(fit.computeWeight).toBeCloseTo(0.3, 6);
    expect(fit.bandwidthWeight).toBeCloseTo(0.5, 6);
    expect(fit.rms).toBeCloseTo(0, 6);
    expect(BenchmarkSnapshot.build().catalogCalibration(key())).toBe(DEFAULT_CATALOG_CALIBRATION);
    // Too few pairs: the default.
    const small = BenchmarkSnapshot.build({ stepTimes: items.slice(0, 3) });
    expect(small.catalogCalibration(key())).toBe(DEFAULT_CATALOG_CALIBRATION);
  });

  it('keeps provisioning aggregates per provider kind', () => {
    const snapshot = BenchmarkSnapshot.build({ provisioning: [{ providerKind: 'RunPod', aggregate: momentsOf([60, 90]) }] });
    snapshot.mergeProvisioning('runpod ', momentsOf([120]));
    expect(snapshot.provisioning('runpod')).toEqual(momentsOf([60, 90, 120]));
    expect(snapshot.provisioningKinds()).toEqual(['runpod']);
    expect(snapshot.provisioning('gcp')).toBeUndefined();
  });

  it('memoizes until the next merge', () => {
    const snapshot = BenchmarkSnapshot.build();
    let calls = 0;
    const compute = () => ++calls;
    expect(snapshot.memo('x', compute)).toBe(1);
    expect(snapshot.memo('x', compute)).toBe(1);
    snapshot.merge(key(), aggregateOf(1));
    expect(snapshot.memo('x', compute)).toBe(2);
  });

  it('reports the log spread of an aggregate', () => {
    expect(logSd(aggregateOf(100))).toBeUndefined();
    expect(logSd(aggregateOf(100, 100))).toBe(0);
    expect(logSd(aggregateOf(100, 400))).toBeCloseTo(Math.log(4) / Math.SQRT2, 12);
  });
});
