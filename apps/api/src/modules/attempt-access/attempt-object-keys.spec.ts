import { describe, expect, it } from 'vitest';
import { attemptObjectKey, isAttemptCheckpointKey, isJobObjectKey } from './attempt-object-keys.js';

const attempt = { orgId: 'org-a', jobId: 'job-1', id: 'att-1' };

describe('keys a node reports back', () => {
  it('accepts exactly the attempt’s own checkpoint slots', () => {
    const own = attemptObjectKey(attempt, { kind: 'checkpoint', number: 3 });
    expect(own).toBe('jobs/org-a/job-1/att-1/checkpoints/checkpoint-003.bin');
    expect(isAttemptCheckpointKey(attempt, own)).toBe(true);
    // Another attempt of the same job, another job, another org, a slot past the last, a traversal.
    expect(isAttemptCheckpointKey(attempt, 'jobs/org-a/job-1/att-2/checkpoints/checkpoint-003.bin')).toBe(false);
    expect(isAttemptCheckpointKey(attempt, 'jobs/org-a/job-2/att-1/checkpoints/checkpoint-003.bin')).toBe(false);
    expect(isAttemptCheckpointKey(attempt, 'jobs/org-b/job-1/att-1/checkpoints/checkpoint-003.bin')).toBe(false);
    expect(isAttemptCheckpointKey(attempt, 'jobs/org-a/job-1/att-1/checkpoints/checkpoint-999.bin')).toBe(false);
    expect(isAttemptCheckpointKey(attempt, 'jobs/org-a/job-1/att-1/checkpoints/../../../org-b/x/checkpoint-001.bin')).toBe(false);
    expect(isAttemptCheckpointKey(attempt, 'datasets/org-b/d/data.jsonl')).toBe(false);
  });

  it('accepts artifact keys only inside the job’s storage', () => {
    expect(isJobObjectKey('org-a', 'job-1', attemptObjectKey(attempt, { kind: 'artifact' }))).toBe(true);
    expect(isJobObjectKey('org-a', 'job-1', 'jobs/org-a/job-1/')).toBe(false);
    expect(isJobObjectKey('org-a', 'job-1', 'jobs/org-a/job-1/../job-2/artifacts/output.tar')).toBe(false);
    expect(isJobObjectKey('org-a', 'job-1', 'jobs/org-a/job-10/artifacts/output.tar')).toBe(false);
    expect(isJobObjectKey('org-a', 'job-1', 'jobs/org-b/job-1/artifacts/output.tar')).toBe(false);
    expect(isJobObjectKey('org-a', 'job-1', 'datasets/org-b/d/data.jsonl')).toBe(false);
  });
});
