import { describe, expect, it } from 'vitest';
import { parseAssignment, parseAttemptEvent, parseBenchmarkSample, parseControlMessage, parseHeartbeat } from './parse.js';
import { roundMegapixels } from './benchmark-sample.schema.js';
import { assignmentFixture, heartbeatFixture } from './testing/protocol-fixtures.js';

const sample = {
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
  gpuCount: 2,
  stepTimeMsMean: 812.5,
  stepTimeMsVariance: 40.1,
  stepsObserved: 100,
  validationTimePerPromptMsMean: null,
  validationPromptsObserved: 0,
  simulated: false,
};

describe('protocol messages', () => {
  it('accepts a valid heartbeat and refuses unknown fields and other schema versions', () => {
    expect(parseHeartbeat(heartbeatFixture()).ok).toBe(true);
    const extra = parseHeartbeat({ ...heartbeatFixture(), ip: '10.0.0.1' });
    expect(!extra.ok && extra.error.code).toBe('invalid_payload');
    const v2 = parseHeartbeat({ ...heartbeatFixture(), schemaVersion: 2 });
    expect(!v2.ok && v2.error.code).toBe('unsupported_schema_version');
    const badGpu = parseHeartbeat(heartbeatFixture({ gpus: [{ ...heartbeatFixture().gpus[0]!, utilizationPct: 140 }] }));
    expect(!badGpu.ok && badGpu.error.issues[0]).toMatch(/^gpus\.0\.utilizationPct/);
  });

  it('accepts an assignment and refuses one whose dataset URL is not a URL', () => {
    expect(parseAssignment(assignmentFixture()).ok).toBe(true);
    const noUrl = assignmentFixture();
    expect(parseAssignment({ ...noUrl, dataset: { ...noUrl.dataset, getUrl: 'not a url' } }).ok).toBe(false);
  });

  it('discriminates control messages', () => {
    const cancel = parseControlMessage({ schemaVersion: 1, type: 'cancel', nodeId: 'n1', attemptId: 'a1', reason: 'user_canceled', issuedAt: '2026-11-22T07:30:00.000Z' });
    expect(cancel.ok && cancel.value.type).toBe('cancel');
    expect(parseControlMessage({ schemaVersion: 1, type: 'reboot', nodeId: 'n1', issuedAt: '2026-11-22T07:30:00.000Z' }).ok).toBe(false);
  });

  it('parses attempt events by type', () => {
    const base = { schemaVersion: 1, attemptId: 'a1', nodeId: 'n1', eventSeq: 3, at: '2026-11-22T07:30:00.000Z' };
    const step = parseAttemptEvent({ ...base, type: 'step', step: 1, totalSteps: 5, loss: 2.1, stepTimeMs: 800, tokensPerS: 10000, gpuUtilizationPct: 97 });
    expect(step.ok && step.value.type).toBe('step');
    expect(parseAttemptEvent({ ...base, type: 'benchmark_sample', sample }).ok).toBe(true);
  });

  it('keeps identifiers out of benchmark samples', () => {
    expect(parseBenchmarkSample(sample).ok).toBe(true);
    for (const field of ['attemptId', 'jobId', 'nodeId', 'orgId', 'userId', 'datasetId', 'ip']) {
      expect(parseBenchmarkSample({ ...sample, [field]: 'x' }).ok).toBe(false);
    }
    expect(parseBenchmarkSample({ ...sample, imageMegapixels: 1.3 }).ok).toBe(false);
    expect(roundMegapixels(1024, 1024)).toBe(1);
    expect(roundMegapixels(1280, 1024)).toBe(1.5);
    expect(roundMegapixels(256, 256)).toBe(0.5);
  });

  it('accepts the additive fields: resume checkpoint, log batches, checkpoint reason, sample id', () => {
    const resume = { getUrl: 'http://127.0.0.1:9000/checkpoints/c1?X-Amz-Signature=abc', step: 40, sizeBytes: 2048 };
    expect(parseAssignment({ ...assignmentFixture(), resumeCheckpoint: resume }).ok).toBe(true);
    expect(parseAssignment({ ...assignmentFixture(), resumeCheckpoint: null }).ok).toBe(true);
    expect(parseAssignment({ ...assignmentFixture(), resumeCheckpoint: { ...resume, getUrl: 'nope' } }).ok).toBe(false);
    const attempt = assignmentFixture().attempt;
    expect(parseAssignment({ ...assignmentFixture(), attempt: { ...attempt, trainerImage: 'ghcr.io/anneal/trainer-lora:1.4' } }).ok).toBe(true);
    expect(parseAssignment({ ...assignmentFixture(), attempt: { ...attempt, trainerImage: '--privileged' } }).ok).toBe(false);
    expect(parseAssignment({ ...assignmentFixture(), attempt: { ...attempt, trainerImage: 'img; rm -rf /' } }).ok).toBe(false);
    const base = { schemaVersion: 1, attemptId: 'a1', nodeId: 'n1', eventSeq: 3, at: '2026-11-22T07:30:00.000Z' };
    expect(parseAttemptEvent({ ...base, type: 'log', stream: 'stdout', line: 'a', lines: ['a', 'b'] }).ok).toBe(true);
    expect(parseAttemptEvent({ ...base, type: 'log', stream: 'stdout', line: 'a', lines: [] }).ok).toBe(false);
    expect(parseAttemptEvent({ ...base, type: 'checkpoint', step: 5, key: 'k', sizeBytes: 10, reason: 'canceled' }).ok).toBe(true);
    expect(parseAttemptEvent({ ...base, type: 'checkpoint', step: 5, key: 'k', sizeBytes: 10, reason: 'whenever' }).ok).toBe(false);
    expect(parseBenchmarkSample({ ...sample, sampleId: '3b241101-e2bb-4255-8caf-4136c566a962' }).ok).toBe(true);
    expect(parseBenchmarkSample({ ...sample, sampleId: 'attempt-1' }).ok).toBe(false);
  });
});
