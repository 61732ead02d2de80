import { describe, expect, it } from 'vitest';
import { recipeKey, resolveGpu, resolveRecipe, validateGpuCount, type RecipeInput } from './recipe.js';

function resolve(overrides: Partial<RecipeInput>) {
  return resolveRecipe({ modelId: 'meta-llama/Llama-3.1-8B', method: 'lora', batchSize: 8, ...overrides });
}

function errorCode(overrides: Partial<RecipeInput>): string | undefined {
  const result = resolve(overrides);
  return result.ok ? undefined : result.error.code;
}

describe('resolveRecipe', () => {
  it('fills defaults and says so', () => {
    const result = resolve({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ method: 'lora', precision: 'bf16', quantization: 'none', shape: { kind: 'seq', seqLen: 2048 }, gradAccum: 1 });
    expect(result.value.notes).toContain('no sequence length given; assumed 2048 tokens');
  });

  it('defaults QLoRA to nf4 and reads LoRA on 4-bit as QLoRA', () => {
    const q = resolve({ method: 'qlora' });
    expect(q.ok && q.value.quantization).toBe('nf4');
    const l = resolve({ method: 'LoRA', quantization: 'nf4' });
    expect(l.ok && l.value.method).toBe('qlora');
    expect(l.ok && l.value.notes.join(' ')).toMatch(/QLoRA/);
  });

  it('reads tf32 as fp32', () => {
    const r = resolve({ precision: 'TF32' });
    expect(r.ok && r.value.precision).toBe('fp32');
  });

  it('image models take a resolution (default 1024², 512² for SD 1.x) and frames', () => {
    const flux = resolve({ modelId: 'black-forest-labs/FLUX.1-dev', resolution: undefined });
    expect(flux.ok && flux.value.shape).toEqual({ kind: 'image', width: 1024, height: 1024, frames: 1 });
    const sd = resolve({ modelId: 'runwayml/stable-diffusion-v1-5' });
    expect(sd.ok && sd.value.shape).toEqual({ kind: 'image', width: 512, height: 512, frames: 1 });
    const wan = resolve({ modelId: 'Wan-AI/Wan2.1-T2V-1.3B', resolution: { width: 832, height: 480 }, frames: 81 });
    expect(wan.ok && wan.value.shape).toEqual({ kind: 'image', width: 832, height: 480, frames: 81 });
  });

  it('estimates an unknown id from its name, saying so, under the custom family', () => {
    const r = resolve({ modelId: 'acme/secret-model-13b' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.model).toMatchObject({ family: 'custom', paramsB: 13, source: 'parsed_from_id' });
    expect(r.value.notes[0]).toMatch(/assumed a 13B-parameter text model from its name/);
  });

  it.each<[Partial<RecipeInput>, string]>([
    [{ modelId: 'acme/mystery' }, 'unknown_model'],
    [{ modelId: '' }, 'unknown_model'],
    [{ method: 'dpo' }, 'invalid_method'],
    [{ precision: 'int2' }, 'invalid_precision'],
    [{ quantization: 'q3' }, 'invalid_quantization'],
    [{ method: 'qlora', quantization: 'none' }, 'invalid_quantization'],
    [{ method: 'full', quantization: 'int8' }, 'invalid_quantization'],
    [{ seqLen: 0 }, 'invalid_shape'],
    [{ seqLen: 2.5 }, 'invalid_shape'],
    [{ modelId: 'black-forest-labs/FLUX.1-dev', resolution: { width: 0, height: 10 } }, 'invalid_shape'],
    [{ modelId: 'black-forest-labs/FLUX.1-dev', frames: 0 }, 'invalid_shape'],
    [{ batchSize: 0 }, 'invalid_batch_size'],
    [{ batchSize: 1e9 }, 'invalid_batch_size'],
    [{ gradAccum: -1 }, 'invalid_grad_accum'],
  ])('%j → %s', (overrides, code) => {
    expect(errorCode(overrides)).toBe(code);
  });

  it('every error has a sentence', () => {
    const r = resolve({ batchSize: -3 });
    expect(!r.ok && r.error.message).toMatch(/batch size must be a whole number/);
  });

  it('builds the key for a hardware profile', () => {
    const r = resolve({ seqLen: 1000, batchSize: 4, gradAccum: 2 });
    if (!r.ok) throw new Error('unexpected');
    expect(recipeKey(r.value, 'l40s', 2)).toMatchObject({ family: 'llama-3', paramsB: 8.03, gpuId: 'l40s', gpuCount: 2, shape: { kind: 'seq', seqLen: 1024 }, batchSize: 4, gradAccum: 2 });
  });
});

describe('offer checks', () => {
  it('resolves GPUs by alias and refuses unknown ones', () => {
    const known = resolveGpu('NVIDIA GeForce RTX 4090');
    expect(known.ok && known.value.id).toBe('rtx-4090');
    const unknown = resolveGpu('RTX 9090');
    expect(!unknown.ok && unknown.error).toEqual({ code: 'unknown_gpu', message: "'RTX 9090' is not a GPU we know" });
  });

  it('checks GPU counts', () => {
    expect(validateGpuCount(8)).toEqual({ ok: true, value: 8 });
    for (const bad of [0, -1, 1.5, 2000]) expect(validateGpuCount(bad).ok).toBe(false);
  });
});
