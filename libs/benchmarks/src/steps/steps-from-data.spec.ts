import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stepsFromData, validateSteps } from './steps-from-data.js';

describe('steps from data', () => {
  it('from samples: ceil(samples × epochs / (batch × accum))', () => {
    expect(stepsFromData({ dataset: { samples: 1000 }, epochs: 3, batchSize: 8, gradAccum: 4 })).toEqual({ ok: true, value: 94 });
    expect(stepsFromData({ dataset: { samples: 64 }, epochs: 1, batchSize: 8, gradAccum: 4 })).toEqual({ ok: true, value: 2 });
    expect(stepsFromData({ dataset: { samples: 1000 }, epochs: 0.5, batchSize: 10, gradAccum: 1 })).toEqual({ ok: true, value: 50 });
  });

  it('from tokens: ceil(tokens × epochs / (seq len × batch × accum))', () => {
    expect(stepsFromData({ dataset: { tokens: 10_000_000 }, epochs: 1, batchSize: 8, gradAccum: 4, seqLen: 2048 })).toEqual({ ok: true, value: 153 });
  });

  it.each([
    [{ dataset: { samples: 0 }, epochs: 1, batchSize: 1, gradAccum: 1 }, 'invalid_dataset'],
    [{ dataset: { samples: 1.5 }, epochs: 1, batchSize: 1, gradAccum: 1 }, 'invalid_dataset'],
    [{ dataset: { tokens: -5 }, epochs: 1, batchSize: 1, gradAccum: 1, seqLen: 10 }, 'invalid_dataset'],
    [{ dataset: {}, epochs: 1, batchSize: 1, gradAccum: 1 }, 'invalid_dataset'],
    [{ dataset: { tokens: 100 }, epochs: 1, batchSize: 1, gradAccum: 1 }, 'invalid_shape'],
    [{ dataset: { samples: 10 }, epochs: 0, batchSize: 1, gradAccum: 1 }, 'invalid_epochs'],
    [{ dataset: { samples: 10 }, epochs: Number.NaN, batchSize: 1, gradAccum: 1 }, 'invalid_epochs'],
    [{ dataset: { samples: 10 }, epochs: 1, batchSize: 0, gradAccum: 1 }, 'invalid_batch_size'],
    [{ dataset: { samples: 10 }, epochs: 1, batchSize: 1, gradAccum: 0 }, 'invalid_grad_accum'],
    [{ dataset: { samples: 1e12 }, epochs: 100, batchSize: 1, gradAccum: 1 }, 'invalid_steps'],
  ])('%j → %s', (input, code) => {
    const result = stepsFromData(input as Parameters<typeof stepsFromData>[0]);
    expect(!result.ok && result.error.code).toBe(code);
  });

  it('property: more samples or epochs never mean fewer steps; a bigger batch never means more', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e7 }), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 16 }), (samples, more, epochs, batch, accum) => {
        const steps = (s: number, e: number, b: number) => {
          const r = stepsFromData({ dataset: { samples: s }, epochs: e, batchSize: b, gradAccum: accum });
          return r.ok ? r.value : Number.POSITIVE_INFINITY;
        };
        expect(steps(samples + more, epochs, batch)).toBeGreaterThanOrEqual(steps(samples, epochs, batch));
        expect(steps(samples, epochs + 1, batch)).toBeGreaterThanOrEqual(steps(samples, epochs, batch));
        expect(steps(samples, epochs, batch * 2)).toBeLessThanOrEqual(steps(samples, epochs, batch));
      }),
    );
  });
});

describe('validateSteps', () => {
  it('accepts 1 to 10 million whole steps', () => {
    expect(validateSteps(1)).toEqual({ ok: true, value: 1 });
    expect(validateSteps(10_000_000)).toEqual({ ok: true, value: 10_000_000 });
  });

  it.each([0, -5, 1.5, Number.NaN, 10_000_001, 1e12])('refuses %d', (steps) => {
    const r = validateSteps(steps);
    expect(!r.ok && r.error.code).toBe('invalid_steps');
  });

  it('says why', () => {
    const r = validateSteps(20_000_000);
    expect(!r.ok && r.error.message).toBe('20,000,000 steps is more than the 10,000,000 we estimate');
  });
});
