import { describe, expect, it } from 'vitest';
import { readSampleMessage } from './benchmark-sample-message.js';

const SAMPLE_ID = '0190f0f0-0000-7000-8000-00000000abcd';

function protocolSample(overrides: Record<string, unknown> = {}) {
  return {
    schemaVersion: 1,
    baseModelId: 'meta-llama/Llama-3.1-8B',
    method: 'lora',
    precision: 'bf16',
    quantization: null,
    sequenceLength: 2048,
    imageMegapixels: null,
    batchSize: 4,
    gradientAccumulation: 2,
    gpuId: 'rtx-4090',
    gpuCount: 1,
    stepTimeMsMean: 800,
    stepTimeMsVariance: 12,
    stepsObserved: 300,
    validationTimePerPromptMsMean: 950,
    validationPromptsObserved: 8,
    simulated: false,
    ...overrides,
  };
}

describe('readSampleMessage', () => {
  it('maps a protocol sample to a benchmark sample: family and size only, never the model id', () => {
    const message = readSampleMessage({ sampleId: SAMPLE_ID, sample: protocolSample() });
    expect(message).toEqual({
      kind: 'sample',
      sampleId: SAMPLE_ID,
      sample: {
        family: 'llama-3',
        paramsB: 8.03,
        method: 'lora',
        gpuId: 'rtx-4090',
        gpuCount: 1,
        shape: { kind: 'seq', seqLen: 2048 },
        batchSize: 4,
        gradAccum: 2,
        precision: 'bf16',
        quantization: 'none',
        stepTimeMs: 800,
        stepsObserved: 300,
        validationMsPerPrompt: 950,
      },
    });
    expect(JSON.stringify(message)).not.toContain('Llama-3.1-8B');
  });

  it('reads a bare protocol sample that carries its own sample id', () => {
    const message = readSampleMessage({ ...protocolSample(), sampleId: SAMPLE_ID });
    expect(message).toMatchObject({ kind: 'sample', sampleId: SAMPLE_ID, sample: { family: 'llama-3', gpuId: 'rtx-4090' } });
    expect(readSampleMessage({ ...protocolSample({ nodeId: 'n1' }), sampleId: SAMPLE_ID })).toMatchObject({ kind: 'rejected', code: 'unexpected_fields', fields: ['nodeId'] });
  });

  it('reads LoRA on a 4-bit base as QLoRA and a rounded resolution as a square image', () => {
    const qlora = readSampleMessage({ sampleId: SAMPLE_ID, sample: protocolSample({ quantization: 'nf4' }) });
    expect(qlora.kind === 'sample' && qlora.sample.method).toBe('qlora');
    const image = readSampleMessage({ sampleId: SAMPLE_ID, sample: protocolSample({ baseModelId: 'stabilityai/stable-diffusion-xl-base-1.0', sequenceLength: null, imageMegapixels: 1 }) });
    expect(image.kind === 'sample' && image.sample.shape).toEqual({ kind: 'image', width: 1000, height: 1000, frames: 1 });
  });

  it('rejects, never strips, identifying fields anywhere in the message', () => {
    expect(readSampleMessage({ sampleId: SAMPLE_ID, sample: protocolSample({ userId: 'u1' }) })).toMatchObject({ kind: 'rejected', code: 'unexpected_fields', fields: ['userId'] });
    expect(readSampleMessage({ sampleId: SAMPLE_ID, attemptId: 'a1', sample: protocolSample() })).toMatchObject({ kind: 'rejected', code: 'unexpected_fields', fields: ['attemptId'] });
    const lib = { family: 'llama-3', paramsB: 8.03, method: 'lora', gpuId: 'rtx-4090', gpuCount: 1, shape: { kind: 'seq', seqLen: 2048, datasetId: 'd' }, batchSize: 4, gradAccum: 1, precision: 'bf16', quantization: 'none', stepTimeMs: 1, stepsObserved: 1 };
    expect(readSampleMessage({ sampleId: SAMPLE_ID, sample: lib })).toMatchObject({ kind: 'rejected', code: 'unexpected_fields', fields: ['shape.datasetId'] });
  });

  it('drops simulated samples and refuses malformed ones with stable codes', () => {
    expect(readSampleMessage({ sampleId: SAMPLE_ID, sample: protocolSample({ simulated: true }) })).toEqual({ kind: 'simulated', sampleId: SAMPLE_ID });
    expect(readSampleMessage({ sampleId: 'attempt-42', sample: protocolSample() })).toMatchObject({ kind: 'rejected', code: 'invalid_field' });
    expect(readSampleMessage({ sampleId: SAMPLE_ID, sample: protocolSample({ stepTimeMsMean: 0 }) })).toMatchObject({ kind: 'rejected', code: 'invalid_field', fields: ['stepTimeMs'] });
    expect(readSampleMessage({ sampleId: SAMPLE_ID, sample: protocolSample({ gpuId: 'voodoo-5' }) })).toMatchObject({ kind: 'rejected', code: 'invalid_field', fields: ['gpuId'] });
    expect(readSampleMessage({ sampleId: SAMPLE_ID, sample: protocolSample({ schemaVersion: 2 }) })).toMatchObject({ kind: 'rejected', code: 'unsupported_schema_version' });
    expect(readSampleMessage({ sampleId: SAMPLE_ID, sample: protocolSample({ baseModelId: 'someone/mystery' }) })).toMatchObject({ kind: 'rejected', code: 'unknown_model' });
    expect(readSampleMessage([1, 2])).toMatchObject({ kind: 'rejected', code: 'not_an_object' });
  });
});
