import { describe, expect, it } from 'vitest';
import { getGpu } from '../catalog/gpu-catalog.js';
import { recipe } from '../testing/fixtures.js';
import { checkMemoryFit, estimateMemory, estimateMemoryGb, formatGb, tokensPerGpuMicroBatch, weightBytesPerParam } from './memory-fit.js';

describe('memory estimate', () => {
  it('weights by precision and quantization', () => {
    expect(weightBytesPerParam('fp32', 'none')).toBe(4);
    expect(weightBytesPerParam('bf16', 'none')).toBe(2);
    expect(weightBytesPerParam('fp8', 'none')).toBe(2);
    expect(weightBytesPerParam('bf16', 'nf4')).toBe(0.55);
    expect(weightBytesPerParam('bf16', 'int4')).toBe(0.55);
    expect(weightBytesPerParam('bf16', 'int8')).toBe(1.03);
    expect(weightBytesPerParam('bf16', 'fp8')).toBe(1);
    expect(weightBytesPerParam('bf16', 'fp8-wo')).toBe(1);
  });

  it('is in the range of published peaks (torchtune, SimpleTuner) and a little conservative', () => {
    // torchtune Llama 3.1 8B, batch 2 × 2048: LoRA 16.2 GiB, QLoRA 7.4 GiB peak.
    const lora = estimateMemoryGb(recipe({ batchSize: 2, seqLen: 2048 }));
    expect(lora).toBeGreaterThan(16.2);
    expect(lora).toBeLessThan(24);
    const qlora = estimateMemoryGb(recipe({ method: 'qlora', batchSize: 2, seqLen: 2048 }));
    expect(qlora).toBeGreaterThan(7.4);
    expect(qlora).toBeLessThan(12);
    // SimpleTuner Qwen Image (20B) LoRA at 1024², batch 1: 41 GiB peak.
    const qwenImage = estimateMemoryGb(recipe({ modelId: 'Qwen/Qwen-Image', batchSize: 1, resolution: { width: 1024, height: 1024 } }));
    expect(qwenImage).toBeGreaterThan(38);
    expect(qwenImage).toBeLessThan(55);
  });

  it('full fine-tunes carry optimizer state; fp32 weights cost more', () => {
    const full = estimateMemory(recipe({ method: 'full', batchSize: 1 }));
    expect(full.trainableStateGb).toBeCloseTo((8.03e9 * 14) / 1024 ** 3, 6);
    const full32 = estimateMemory(recipe({ method: 'full', precision: 'fp32', batchSize: 1 }));
    expect(full32.weightsGb).toBeCloseTo((8.03e9 * 4) / 1024 ** 3, 6);
    expect(full32.trainableStateGb).toBeCloseTo((8.03e9 * 12) / 1024 ** 3, 6);
    expect(full.totalGb).toBeGreaterThan(120);
  });

  it('grows with sequence length and batch, shrinks when sharded over more GPUs', () => {
    const base = estimateMemoryGb(recipe({ batchSize: 1, seqLen: 1024 }));
    expect(estimateMemoryGb(recipe({ batchSize: 1, seqLen: 8192 }))).toBeGreaterThan(base);
    expect(estimateMemoryGb(recipe({ batchSize: 8, seqLen: 1024 }))).toBeGreaterThan(base);
    const r = recipe({ method: 'full', batchSize: 8 });
    expect(estimateMemoryGb(r, 8)).toBeLessThan(estimateMemoryGb(r, 2));
  });

  it('counts tokens per GPU micro-batch, video frames compressed 4× in time', () => {
    expect(tokensPerGpuMicroBatch({ kind: 'seq', seqLen: 2048 }, 8, 2)).toBe(8192);
    expect(tokensPerGpuMicroBatch({ kind: 'image', width: 1024, height: 1024, frames: 1 }, 1, 1)).toBe(4096);
    expect(tokensPerGpuMicroBatch({ kind: 'image', width: 1024, height: 1024, frames: 81 }, 1, 1)).toBe(4096 * 21);
  });
});

describe('checkMemoryFit', () => {
  it('fits an 8B LoRA on a 24 GB card', () => {
    const fit = checkMemoryFit(recipe({ batchSize: 2 }), getGpu('rtx-4090'), 1);
    expect(fit.ok).toBe(true);
    expect(fit.haveGb).toBe(24);
  });

  it('refuses with figures', () => {
    const fit = checkMemoryFit(recipe({ method: 'full', batchSize: 2 }), getGpu('rtx-4090'), 1);
    expect(fit.ok).toBe(false);
    if (fit.ok) return;
    expect(fit.error.code).toBe('does_not_fit_memory');
    expect(fit.error.message).toMatch(/^needs ~\d+ GB, RTX 4090 has 24 GB$/);
    expect(fit.needGb).toBeGreaterThan(fit.haveGb);
  });

  it('speaks per GPU when there are several', () => {
    const fit = checkMemoryFit(recipe({ modelId: 'meta-llama/Llama-3.1-70B', method: 'full', batchSize: 2 }), getGpu('rtx-4090'), 2);
    expect(!fit.ok && fit.error.message).toMatch(/^needs ~[\d,]+ GB per GPU across 2× RTX 4090, each has 24 GB$/);
    expect(checkMemoryFit(recipe({ modelId: 'meta-llama/Llama-3.1-70B', batchSize: 8 }), getGpu('h100-sxm'), 8).ok).toBe(true);
  });

  it('formats GB', () => {
    expect(formatGb(7.44)).toBe('7.4');
    expect(formatGb(38.4)).toBe('38');
    expect(formatGb(1120.2)).toBe('1,120');
  });
});
