import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { key } from '../testing/fixtures.js';
import {
  METHODS,
  PRECISIONS,
  QUANTIZATIONS,
  canonicalParamsB,
  keyToString,
  megapixelBucket,
  parseKeyString,
  precisionClass,
  recipeGroupString,
  sameGpuGroupString,
  seqLenBucket,
  shapeBucket,
  shapeBucketString,
  speedContextString,
  speedGroupString,
  workPerStep,
  type BenchmarkKey,
} from './benchmark-key.js';

describe('buckets', () => {
  it.each([
    [1, 32],
    [100, 96],
    [384, 384],
    [512, 512],
    [1000, 1024],
    [2048, 2048],
    [3000, 3072],
    [5000, 4096],
    [8192, 8192],
  ])('sequence length %i → bucket %i', (seq, bucket) => {
    expect(seqLenBucket(seq)).toBe(bucket);
  });

  it('property: the sequence bucket is within a factor of 1.23 of the length and idempotent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 32, max: 1_048_576 }), (seq) => {
        const bucket = seqLenBucket(seq);
        expect(Math.abs(Math.log2(bucket / seq))).toBeLessThanOrEqual(0.3);
        expect(seqLenBucket(bucket)).toBe(bucket);
      }),
    );
  });

  it.each([
    [1024, 1024, 1.0],
    [512, 512, 0.5],
    [224, 224, 0.5],
    [1280, 704, 1.0],
    [1536, 1536, 2.5],
    [2048, 2048, 4.0],
  ])('%i×%i → %f MP', (w, h, mp) => {
    expect(megapixelBucket(w, h)).toBe(mp);
  });

  it('image buckets keep frames', () => {
    expect(shapeBucket({ kind: 'image', width: 832, height: 480, frames: 81 })).toEqual({ kind: 'image', megapixels: 0.5, frames: 81 });
    expect(shapeBucketString({ kind: 'image', megapixels: 0.5, frames: 81 })).toBe('img0.5mpx81f');
    expect(shapeBucketString({ kind: 'image', megapixels: 1, frames: 1 })).toBe('img1.0mp');
  });
});

const keyArbitrary: fc.Arbitrary<BenchmarkKey> = fc.record({
  family: fc.constantFrom('llama-3', 'qwen2.5', 'flux.1', 'custom', 'sd-1'),
  paramsB: fc.double({ min: 0.001, max: 2000, noNaN: true, noDefaultInfinity: true }).map(canonicalParamsB),
  method: fc.constantFrom(...METHODS),
  gpuId: fc.constantFrom('rtx-4090', 'mi300x', 'a100-80gb-sxm', 'h100-sxm'),
  gpuCount: fc.integer({ min: 1, max: 1024 }),
  shape: fc.oneof(
    fc.integer({ min: 1, max: 1_000_000 }).map((seq) => ({ kind: 'seq' as const, seqLen: seqLenBucket(seq) })),
    fc.record({ kind: fc.constant('image' as const), megapixels: fc.integer({ min: 1, max: 40 }).map((h) => h / 2), frames: fc.integer({ min: 1, max: 200 }) }),
  ),
  batchSize: fc.integer({ min: 1, max: 65536 }),
  gradAccum: fc.integer({ min: 1, max: 4096 }),
  precision: fc.constantFrom(...PRECISIONS),
  quantization: fc.constantFrom(...QUANTIZATIONS),
});

describe('key strings', () => {
  it('reads like the recipe', () => {
    expect(keyToString(key())).toBe('llama-3/8.03b/lora|rtx-4090x1|seq2048|b8|ga1|bf16|none');
  });

  it('property: parseKeyString(keyToString(k)) is k', () => {
    fc.assert(
      fc.property(keyArbitrary, (k) => {
        expect(parseKeyString(keyToString(k))).toEqual(k);
      }),
    );
  });

  it.each(['', 'a|b', 'llama/8b/lora|rtx-4090x1|seq2048|b8|ga1|bf16', 'llama/8b/dpo|rtx-4090x1|seq2048|b8|ga1|bf16|none', 'llama/8b/lora|rtx-4090|seq2048|b8|ga1|bf16|none', 'llama/8b/lora|rtx-4090x1|tok2048|b8|ga1|bf16|none', 'llama/8b/lora|rtx-4090x1|seq2048|b8|ga1|int3|none', 'llama/8b/lora|rtx-4090x1|seq2048|bx|ga1|bf16|none'])(
    'rejects %j',
    (text) => {
      expect(parseKeyString(text)).toBeUndefined();
    },
  );

  it('groups keys for the estimator', () => {
    const a = key({ batchSize: 8 });
    const b = key({ batchSize: 16, gpuCount: 2 });
    const c = key({ gpuId: 'l40s' });
    expect(recipeGroupString(a)).toBe(recipeGroupString(c));
    expect(sameGpuGroupString(a)).toBe(sameGpuGroupString(b));
    expect(sameGpuGroupString(a)).not.toBe(sameGpuGroupString(c));
    expect(speedGroupString(a)).toBe(speedGroupString(c));
    expect(speedGroupString(a)).toBe(speedGroupString(key({ batchSize: 2, gradAccum: 4 })));
    expect(speedContextString(a)).toBe('seq|half');
    expect(precisionClass('fp32')).toBe('fp32');
    expect(precisionClass('fp8')).toBe('low');
    expect(precisionClass('fp4')).toBe('low');
  });

  it('measures work per step', () => {
    expect(workPerStep(key({ batchSize: 4, gradAccum: 2 }))).toBe(4 * 2 * 2048);
    expect(workPerStep(key({ shape: { kind: 'image', megapixels: 0.5, frames: 81 }, batchSize: 2 }))).toBe(2 * 0.5 * 81);
  });
});
