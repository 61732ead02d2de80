import type { Assignment } from '@anneal/providers';

/** A valid assignment for `nodeId`, for tests; `urls: false` leaves every presigned URL to the API (no `uploads`). */
export function buildAssignment(
  nodeId: string,
  attemptId: string,
  overrides: { steps?: number; maxDurationS?: number; budgetStopAt?: string | null; expiresAt?: string; gpuIndices?: number[] | null; urls?: boolean } = {},
): Assignment {
  const assignment: Assignment = {
    schemaVersion: 1,
    type: 'assign',
    nodeId,
    attempt: {
      attemptId,
      jobId: `job-${attemptId}`,
      recipe: {
        baseModelId: 'meta-llama/Llama-3.1-8B',
        method: 'lora',
        precision: 'bf16',
        quantization: null,
        sequenceLength: 2048,
        imageResolution: null,
        batchSize: 4,
        gradientAccumulation: 2,
        steps: overrides.steps ?? 3,
        epochs: null,
        validation: null,
        hyperparameters: { learningRate: 0.0002 },
      },
      runnerKind: 'synthetic',
      maxDurationS: overrides.maxDurationS ?? 3600,
      budgetStopAt: overrides.budgetStopAt ?? null,
      gpuIndices: overrides.gpuIndices ?? null,
    },
    dataset: { getUrl: 'http://127.0.0.1:9/datasets/d1?X-Amz-Signature=secret', sizeBytes: 1024, sha256: null },
    uploads: {
      artifact: { key: `artifacts/${attemptId}/final.tar`, putUrl: 'http://127.0.0.1:9/artifacts/final.tar?X-Amz-Signature=secret' },
      checkpoints: [],
      logs: null,
      expiresAt: overrides.expiresAt ?? new Date(Date.now() + 3_600_000).toISOString(),
    },
    attemptToken: 'attempt-token-0123456789abcdef',
    issuedAt: new Date().toISOString(),
  };
  if (overrides.urls !== false) return assignment;
  const { uploads: _uploads, ...urlFree } = assignment;
  return { ...urlFree, dataset: { sizeBytes: assignment.dataset.sizeBytes, sha256: assignment.dataset.sha256 } };
}
