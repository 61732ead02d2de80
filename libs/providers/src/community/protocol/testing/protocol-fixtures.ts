import type { Assignment } from '../assignment.schema.js';
import type { Heartbeat } from '../heartbeat.schema.js';

/** A valid heartbeat, for tests. */
export function heartbeatFixture(overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    schemaVersion: 1,
    type: 'heartbeat',
    nodeId: '0193a0c8-7a2e-7c4e-9d41-3f2b8c1d5e6f',
    seq: 7,
    sentAt: '2026-11-22T07:30:00.000Z',
    agentVersion: '0.1.0',
    uptimeS: 12.5,
    simulated: false,
    state: 'active',
    gpus: [
      {
        index: 0,
        name: 'NVIDIA GeForce RTX 4090',
        gpuId: 'rtx-4090',
        vramTotalMb: 24564,
        vramUsedMb: 1,
        utilizationPct: 0,
        temperatureC: 34,
        powerW: null,
      },
    ],
    runningAttempt: null,
    ...overrides,
  };
}

/** A valid assignment, for tests. */
export function assignmentFixture(overrides: Partial<Assignment> = {}): Assignment {
  return {
    schemaVersion: 1,
    type: 'assign',
    nodeId: '0193a0c8-7a2e-7c4e-9d41-3f2b8c1d5e6f',
    attempt: {
      attemptId: '0193a0c9-0000-7000-8000-000000000001',
      jobId: '0193a0c9-0000-7000-8000-000000000002',
      recipe: {
        baseModelId: 'meta-llama/Llama-3.1-8B',
        method: 'lora',
        precision: 'bf16',
        quantization: null,
        sequenceLength: 2048,
        imageResolution: null,
        batchSize: 4,
        gradientAccumulation: 2,
        steps: 5,
        epochs: null,
        validation: null,
        hyperparameters: { learningRate: 0.0002, loraRank: 16 },
      },
      runnerKind: 'synthetic',
      maxDurationS: 3600,
      budgetStopAt: null,
      gpuIndices: null,
    },
    dataset: { getUrl: 'http://127.0.0.1:9000/datasets/d1?X-Amz-Signature=abc', sizeBytes: 1024, sha256: null },
    uploads: {
      artifact: { key: 'artifacts/a1/final.tar', putUrl: 'http://127.0.0.1:9000/artifacts/a1/final.tar?X-Amz-Signature=abc' },
      checkpoints: [],
      logs: null,
      expiresAt: '2026-11-22T09:30:00.000Z',
    },
    attemptToken: 'attempt-token-0123456789abcdef',
    issuedAt: '2026-11-22T07:30:00.000Z',
    ...overrides,
  };
}

/**
 * An assignment that carries no presigned URL (what the scheduler sends once the agent fetches them
 * with its attempt token): sizes and hashes, the resume step, and the token; no `uploads`.
 */
export function urlFreeAssignmentFixture(overrides: Partial<Assignment> = {}): Assignment {
  const { uploads: _uploads, ...rest } = assignmentFixture();
  return { ...rest, dataset: { sizeBytes: 1024, sha256: 'ab'.repeat(32) }, resumeCheckpoint: { step: 40, sizeBytes: null }, ...overrides };
}
