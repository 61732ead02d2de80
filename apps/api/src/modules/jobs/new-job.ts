import type { Job } from './entities/job.entity.js';

/** What a submission decides; every other column of a new job starts the same way. */
export type JobSubmission = Pick<
  Job,
  | 'id'
  | 'orgId'
  | 'createdBy'
  | 'name'
  | 'recipe'
  | 'datasetId'
  | 'resources'
  | 'providerAllowlist'
  | 'maxPriceMicrosPerGpuHour'
  | 'budgetCapMicros'
  | 'holdMicros'
  | 'holdId'
  | 'submittedQuote'
  | 'steps'
  | 'maxDurationSeconds'
  | 'maxAttempts'
  | 'idempotencyKey'
  | 'requestHash'
>;

/** A job as submitted at `at`: queued, due at once, nothing run, charged or stored yet. */
export function newJob(submission: JobSubmission, at: Date): Job {
  return {
    ...submission,
    status: 'queued',
    attemptCount: 0,
    failedRounds: 0,
    waitReason: 'Waiting for the scheduler to match an offer.',
    nextAttemptAt: at,
    lastCheckpointKey: null,
    finalMessage: null,
    cancelRequestedAt: null,
    artifactKeys: [],
    costMicros: 0n,
    runtimeSeconds: null,
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    finishedAt: null,
  };
}
