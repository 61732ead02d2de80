import { describe, expect, it } from 'vitest';
import { MODEL_REGISTRY, findRegisteredModel, formatParams, lookupModel, parseParamsFromId } from './model-registry.js';

describe('model registry', () => {
  it('covers the well-known base models', () => {
    for (const id of [
      'meta-llama/Llama-3.2-1B',
      'meta-llama/Llama-3.2-3B',
      'meta-llama/Llama-3.1-8B',
      'meta-llama/Llama-3.1-70B',
      'mistralai/Mistral-7B-v0.1',
      'mistralai/Mixtral-8x7B-v0.1',
      'Qwen/Qwen2.5-0.5B',
      'Qwen/Qwen2.5-72B',
      'google/gemma-2-2b',
      'google/gemma-2-9b',
      'google/gemma-2-27b',
      'microsoft/Phi-3-mini-4k-instruct',
      'stabilityai/stable-diffusion-xl-base-1.0',
      'black-forest-labs/FLUX.1-dev',
      'runwayml/stable-diffusion-v1-5',
    ]) {
      expect(lookupModel(id).kind, id).toBe('known');
    }
  });

  it('has sane entries', () => {
    for (const m of MODEL_REGISTRY) {
      expect(m.paramsB).toBeGreaterThan(0);
      expect(m.activeParamsB).toBeLessThanOrEqual(m.paramsB);
      expect(['text', 'image']).toContain(m.modality);
    }
  });

  it('matches ids and aliases case- and separator-insensitively', () => {
    expect(findRegisteredModel('META-LLAMA/llama_3.1 8b')?.id).toBe('meta-llama/Llama-3.1-8B');
    expect(findRegisteredModel('Llama 3.1 8B')?.family).toBe('llama-3');
    expect(findRegisteredModel('LLAMA2-70B')?.paramsB).toBe(69);
    expect(lookupModel('mistralai/Mixtral-8x7B-Instruct-v0.1')).toMatchObject({ kind: 'known', model: { activeParamsB: 12.9, paramsB: 46.7 } });
    expect(lookupModel('black-forest-labs/FLUX.1-dev')).toMatchObject({ kind: 'known', model: { modality: 'image', family: 'flux.1' } });
  });

  it('does not match a derivative by its name after the org', () => {
    expect(lookupModel('someone/Llama-3.1-8B').kind).toBe('parsed');
  });

  it.each([
    ['org/foo-13b', 13, false],
    ['bar-1.5B-chat', 1.5, false],
    ['tiny-350m', 0.35, false],
    ['acme/qux-8x7b', 56, true],
    ['acme/model_7B', 7, false],
  ])('parses %s', (id, paramsB, mixture) => {
    expect(parseParamsFromId(id)).toEqual({ paramsB, mixture });
  });

  it.each(['gpt2', 'acme/phi', 'org/model-v2', 'acme/0b-model'])('finds no size in %s', (id) => {
    expect(parseParamsFromId(id)).toBeUndefined();
  });

  it('parsed models are custom, with a note, and image words pick the modality', () => {
    const text = lookupModel('acme/foo-13b');
    expect(text).toMatchObject({ kind: 'parsed', model: { family: 'custom', paramsB: 13, modality: 'text', source: 'parsed_from_id' } });
    const image = lookupModel('acme/my-diffusion-2b');
    expect(image).toMatchObject({ kind: 'parsed', model: { modality: 'image' } });
    const moe = lookupModel('acme/qux-8x7b');
    expect(moe.kind === 'parsed' && moe.note).toMatch(/mixture of experts/);
    expect(lookupModel('   ')).toEqual({ kind: 'unknown', id: '   ' });
    expect(lookupModel('acme/mystery')).toEqual({ kind: 'unknown', id: 'acme/mystery' });
  });

  it('formats parameter counts', () => {
    expect(formatParams(0.35)).toBe('350M');
    expect(formatParams(1.54)).toBe('1.5B');
    expect(formatParams(70.6)).toBe('71B');
  });
});
