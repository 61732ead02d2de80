import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { END_REASONS, JOB_STATUSES, TERMINAL_JOB_STATUSES, canTransition, canTransitionAttempt, isTerminal, outcomeOfAttempt, retryDelaySeconds, type JobStatus } from './job-state.js';

describe('job state machine', () => {
  it('follows queued → matching → provisioning → running → uploading → succeeded', () => {
    const path: JobStatus[] = ['queued', 'matching', 'provisioning', 'running', 'uploading', 'succeeded'];
    for (let i = 1; i < path.length; i += 1) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });

  it('never leaves a terminal state', () => {
    for (const from of TERMINAL_JOB_STATUSES) for (const to of JOB_STATUSES) expect(canTransition(from, to)).toBe(false);
  });

  it('refuses skipping ahead and going backwards from success', () => {
    expect(canTransition('queued', 'running')).toBe(false);
    expect(canTransition('queued', 'succeeded')).toBe(false);
    expect(canTransition('uploading', 'running')).toBe(false);
  });

  it('lets every non-terminal state be canceled', () => {
    for (const from of JOB_STATUSES.filter((s) => !isTerminal(s))) expect(canTransition(from, 'canceled')).toBe(true);
  });

  it('attempts only move forward', () => {
    expect(canTransitionAttempt('provisioning', 'running')).toBe(true);
    expect(canTransitionAttempt('running', 'provisioning')).toBe(false);
    expect(canTransitionAttempt('ended', 'running')).toBe(false);
  });

  it('every attempt outcome is a legal move from running', () => {
    fc.assert(
      fc.property(fc.constantFrom(...END_REASONS), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (reason, attempts, max) => {
        const outcome = outcomeOfAttempt(reason, attempts, max);
        expect(canTransition('running', outcome.jobStatus)).toBe(true);
        expect(outcome.requeue).toBe(outcome.jobStatus === 'queued');
      }),
    );
  });

  it('requeues a lost node while attempts remain, then fails', () => {
    expect(outcomeOfAttempt('node_lost', 1, 3)).toMatchObject({ jobStatus: 'queued', requeue: true });
    expect(outcomeOfAttempt('node_lost', 3, 3)).toMatchObject({ jobStatus: 'failed', requeue: false });
    expect(outcomeOfAttempt('budget_exhausted', 1, 3).jobStatus).toBe('budget_exhausted');
  });

  it('backs off exponentially up to five minutes', () => {
    expect([1, 2, 3, 4].map(retryDelaySeconds)).toEqual([5, 10, 20, 40]);
    expect(retryDelaySeconds(30)).toBe(300);
  });
});
