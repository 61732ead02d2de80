import { describe, expect, it } from 'vitest';
import { aggregateRun } from '../aggregate/aggregate.js';
import { GPU_CATALOG } from '../catalog/gpu-catalog.js';
import { keyToString, makeKey, type BenchmarkKey } from '../key/benchmark-key.js';
import { MODEL_REGISTRY } from '../models/model-registry.js';
import { estimateOffers, type Offer } from './estimator.js';
import { BenchmarkSnapshot } from './snapshot.js';

/** A deterministic pseudo-random source, so the test sees the same data every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

describe('snapshot at API scale', () => {
  it('10,000 keys; 5,000 offers estimated in one call, well within budget', () => {
    const rnd = random(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
    const gpus = GPU_CATALOG.map((g) => g.id);
    const models = MODEL_REGISTRY.filter((m) => m.modality === 'text');
    const items = new Map<string, { key: BenchmarkKey; aggregate: ReturnType<typeof aggregateRun> }>();
    while (items.size < 10_000) {
      const m = pick(models);
      const method = pick(['lora', 'qlora', 'full'] as const);
      const k = makeKey({
        family: m.family,
        paramsB: m.paramsB,
        method,
        gpuId: pick(gpus),
        gpuCount: pick([1, 1, 2, 4, 8]),
        shape: { kind: 'seq', seqLen: pick([512, 1024, 2048, 4096]) },
        batchSize: pick([1, 2, 4, 8]),
        gradAccum: pick([1, 2, 4]),
        precision: pick(['bf16', 'fp16'] as const),
        quantization: method === 'qlora' ? 'nf4' : 'none',
      });
      items.set(keyToString(k), { key: k, aggregate: aggregateRun({ stepTimeMs: 100 + rnd() * 5000, stepsObserved: 100 }) });
    }
    const snapshot = BenchmarkSnapshot.build({ stepTimes: [...items.values()] });
    expect(snapshot.size).toBe(10_000);
    const offers: Offer[] = Array.from({ length: 5000 }, () => ({
      gpuId: pick(gpus),
      gpuCount: pick([1, 1, 2, 4, 8]),
      priceMicrosPerGpuHour: BigInt(Math.floor(rnd() * 5e6)),
      providerKind: pick(['community', 'gcp', 'runpod']),
    }));
    const job = { recipe: { modelId: 'Qwen/Qwen2.5-7B', method: 'qlora', seqLen: 4096, batchSize: 4, gradAccum: 4 }, steps: 5000 };
    estimateOffers(job, offers, snapshot); // warm up
    const started = performance.now();
    const results = estimateOffers(job, offers, snapshot);
    const elapsed = performance.now() - started;
    expect(results).toHaveLength(5000);
    expect(results.filter((r) => r.ok).length).toBeGreaterThan(4000);
    // Typically ~5–10 ms on one core; the bound only catches an accidental O(keys) per offer.
    expect(elapsed).toBeLessThan(500);
  });
});
