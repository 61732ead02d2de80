import { describe, expect, it } from 'vitest';
import { buildVocabulary, CharMlp, decodeCheckpoint, DEFAULT_CHAR_MLP_CONFIG, encodeCheckpoint, encodeText, Rng } from './char-mlp.model.js';

const TEXT = `${'the quick brown fox jumps over the lazy dog. '.repeat(20)}${'a stitch in time saves nine. '.repeat(20)}`;

function trained(steps: number, seed = 7) {
  const vocabulary = buildVocabulary(TEXT);
  const tokens = encodeText(TEXT, vocabulary);
  const model = CharMlp.create(vocabulary, { ...DEFAULT_CHAR_MLP_CONFIG, seed, tokensPerStep: 64 });
  const losses: number[] = [];
  for (let i = 0; i < steps; i += 1) losses.push(model.trainStep(tokens));
  return { model, tokens, losses };
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe('character MLP language model', () => {
  it('builds a deterministic vocabulary (most frequent first, 0 for everything else)', () => {
    expect(buildVocabulary('bbbaac')).toEqual(['', 'b', 'a', 'c']);
    expect(buildVocabulary('abcdef', 3)).toEqual(['', 'a', 'b']);
    expect([...encodeText('abz', ['', 'a', 'b'])]).toEqual([1, 2, 0]);
  });

  it('starts near ln(vocab) and the loss really goes down with training', () => {
    const { model, tokens, losses } = trained(200);
    const vocabSize = model.vocabulary.length;
    expect(mean(losses.slice(0, 5))).toBeGreaterThan(Math.log(vocabSize) * 0.6);
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 20)) * 0.6);
    // held-out style check on the whole text: much better than uniform guessing
    expect(model.evaluate(tokens)).toBeLessThan(Math.log(vocabSize) * 0.5);
    expect(model.step).toBe(200);
  });

  it('is deterministic given a seed, and differs with another seed', () => {
    expect(trained(30, 11).losses).toEqual(trained(30, 11).losses);
    expect(trained(30, 12).losses).not.toEqual(trained(30, 11).losses);
  });

  it('round-trips a checkpoint: restored weights, step and RNG continue exactly like the original', () => {
    const { model, tokens } = trained(40);
    const bytes = encodeCheckpoint(model.state());
    const saved = model.state().params;
    const restored = CharMlp.fromState(decodeCheckpoint(bytes));
    expect(restored.step).toBe(40);
    expect(restored.vocabulary).toEqual(model.vocabulary);
    const next = [1, 2, 3].map(() => model.trainStep(tokens));
    const nextRestored = [1, 2, 3].map(() => restored.trainStep(tokens));
    expect(nextRestored).toEqual(next);
    // an unaligned copy decodes too
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(decodeCheckpoint(shifted.subarray(1)).params).toEqual(saved);
    // a Buffer that views part of a larger ArrayBuffer (as readFile may return)
    const pooled = Buffer.concat([Buffer.alloc(7), Buffer.from(bytes)]).subarray(7);
    expect(decodeCheckpoint(pooled).params).toEqual(saved);
  });

  it('refuses bytes that are not a checkpoint', () => {
    expect(() => decodeCheckpoint(new TextEncoder().encode('hello world, not a checkpoint'))).toThrow(/bad magic/);
    const { model } = trained(1);
    const bytes = encodeCheckpoint(model.state());
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 10))).toThrow(/truncated/);
  });

  it('generates text from the vocabulary without touching the training stream', () => {
    const { model, tokens } = trained(100);
    const twin = CharMlp.fromState(model.state());
    const sample = model.generate('the ', 30, 1);
    expect([...sample]).toHaveLength(30);
    for (const char of sample) expect(model.vocabulary).toContain(char);
    expect(model.trainStep(tokens)).toEqual(twin.trainStep(tokens));
  });

  it('has a PRNG with a serialisable state', () => {
    const a = new Rng(5);
    a.next();
    const b = new Rng(a.state);
    expect(b.next()).toEqual(a.next());
  });
});

describe('character MLP on real prose', () => {
  it('learns this package README (non-repetitive text): the loss falls well below its start', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const vocabulary = buildVocabulary(text);
    const tokens = encodeText(text, vocabulary);
    const model = CharMlp.create(vocabulary, { ...DEFAULT_CHAR_MLP_CONFIG, seed: 1 });
    const losses = Array.from({ length: 300 }, () => model.trainStep(tokens));
    const avg = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(avg(losses.slice(-30))).toBeLessThan(avg(losses.slice(0, 30)) - 1);
  });
});
