import { describe, expect, it } from 'vitest';
import { recipe } from '../testing/fixtures.js';
import { ingestSample, sampleFromRun, sampleKey, validateSample, SAMPLE_FIELDS, type BenchmarkSample } from './sample.js';

const valid: BenchmarkSample = {
  family: 'llama-3',
  paramsB: 8.03,
  method: 'lora',
  gpuId: 'rtx-4090',
  gpuCount: 1,
  shape: { kind: 'seq', seqLen: 2048 },
  batchSize: 8,
  gradAccum: 1,
  precision: 'bf16',
  quantization: 'none',
  stepTimeMs: 1200,
  stepsObserved: 500,
  validationMsPerPrompt: 900,
};

describe('validateSample', () => {
  it('accepts a valid sample', () => {
    expect(validateSample(valid)).toEqual({ ok: true, value: valid });
    const { validationMsPerPrompt: _, ...withoutValidation } = valid;
    expect(validateSample(withoutValidation)).toEqual({ ok: true, value: withoutValidation });
    const image = { ...valid, family: 'flux.1', paramsB: 11.9, shape: { kind: 'image', width: 1024, height: 1024, frames: 1 } };
    expect(validateSample(image).ok).toBe(true);
  });

  it('rejects extra fields by name, never strips them', () => {
    const result = validateSample({ ...valid, jobId: 'j-1', nodeIp: '10.0.0.1', orgId: 'o' });
    expect(result).toEqual({
      ok: false,
      error: { code: 'unexpected_fields', fields: ['jobId', 'nodeIp', 'orgId'], message: 'sample carries fields that are not allowed: jobId, nodeIp, orgId' },
    });
  });

  it('rejects extra fields inside the shape', () => {
    const result = validateSample({ ...valid, shape: { kind: 'seq', seqLen: 2048, datasetName: 'private' } });
    expect(!result.ok && result.error).toMatchObject({ code: 'unexpected_fields', fields: ['shape.datasetName'] });
    const image = validateSample({ ...valid, shape: { kind: 'image', width: 1, height: 1, frames: 1, seqLen: 3 } });
    expect(!image.ok && image.error).toMatchObject({ code: 'unexpected_fields', fields: ['shape.seqLen'] });
  });

  it('has no field that could identify anyone', () => {
    for (const field of SAMPLE_FIELDS) expect(field).not.toMatch(/user|org|job|node|dataset|^ip|address|host|tenant|email|name/i);
    // The only id is a GPU catalog id, and the model appears only as family + size.
    expect(SAMPLE_FIELDS.filter((f) => /id$/i.test(f))).toEqual(['gpuId']);
    expect(SAMPLE_FIELDS).not.toContain('modelId');
  });

  it.each<[string, unknown]>([
    ['family', 'acme-secret-model'],
    ['family', 3],
    ['paramsB', 0],
    ['paramsB', Number.POSITIVE_INFINITY],
    ['method', 'dpo'],
    ['gpuId', 'NVIDIA GeForce RTX 4090'],
    ['gpuCount', 0],
    ['shape', 'seq'],
    ['batchSize', 1.5],
    ['gradAccum', 0],
    ['precision', 'fp64'],
    ['quantization', 'q2'],
    ['stepTimeMs', -1],
    ['stepTimeMs', 1e12],
    ['stepsObserved', 0],
    ['validationMsPerPrompt', 0],
  ])('rejects %s = %j', (field, value) => {
    const result = validateSample({ ...valid, [field]: value });
    expect(!result.ok && result.error.code).toBe('invalid_field');
    expect(!result.ok && result.error.code === 'invalid_field' && result.error.field).toBe(field);
  });

  it.each<[unknown, string]>([
    [{ kind: 'seq', seqLen: 0 }, 'shape.seqLen'],
    [{ kind: 'image', width: 0, height: 1, frames: 1 }, 'shape.width'],
    [{ kind: 'image', width: 1, height: 0, frames: 1 }, 'shape.height'],
    [{ kind: 'image', width: 1, height: 1, frames: 0 }, 'shape.frames'],
    [{ kind: 'audio' }, 'shape.kind'],
  ])('rejects shape %j', (shape, field) => {
    const result = validateSample({ ...valid, shape });
    expect(!result.ok && result.error.code === 'invalid_field' && result.error.field).toBe(field);
  });

  it('rejects non-objects', () => {
    for (const input of [null, 3, 'x', []]) expect(validateSample(input)).toMatchObject({ ok: false, error: { code: 'not_an_object' } });
  });
});

describe('ingestion', () => {
  it('turns a sample into its key string and a one-run aggregate', () => {
    const { key, aggregate } = ingestSample(valid);
    expect(key).toBe('llama-3/8.03b/lora|rtx-4090x1|seq2048|b8|ga1|bf16|none');
    expect(aggregate.stepTimeMs).toEqual({ count: 1, mean: 1200, m2: 0 });
    expect(aggregate.stepsObserved).toBe(500);
    expect(aggregate.validationMsPerPrompt.count).toBe(1);
    expect(sampleKey({ ...valid, shape: { kind: 'seq', seqLen: 1000 } }).shape).toEqual({ kind: 'seq', seqLen: 1024 });
  });

  it('builds samples from runs without the model id', () => {
    const custom = recipe({ modelId: 'acme/secret-model-13b' });
    const sample = sampleFromRun(custom, { gpuId: 'l40s', gpuCount: 2, stepTimeMs: 800, stepsObserved: 100, validationMsPerPrompt: 50 });
    expect(JSON.stringify(sample)).not.toMatch(/acme|secret/);
    expect(sample).toMatchObject({ family: 'custom', paramsB: 13, gpuId: 'l40s', gpuCount: 2, validationMsPerPrompt: 50 });
    expect(validateSample(sample).ok).toBe(true);
    const noValidation = sampleFromRun(recipe(), { gpuId: 'l40s', gpuCount: 1, stepTimeMs: 800, stepsObserved: 100 });
    expect('validationMsPerPrompt' in noValidation).toBe(false);
  });
});
