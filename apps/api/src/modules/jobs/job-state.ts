/**
 * The job and attempt state machines (ARCHITECTURE.md, Jobs). Pure: which transitions are legal,
 * and what an attempt's end means for its job. Every transition the service makes goes through
 * here, so an illegal one is refused in one place.
 */
export const JOB_STATUSES = ['queued', 'matching', 'provisioning', 'running', 'uploading', 'succeeded', 'failed', 'canceled', 'budget_exhausted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled', 'budget_exhausted'];

const JOB_TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['matching', 'canceled', 'failed'],
  // Matching finds no offer → back to queued (waiting, with reasons).
  matching: ['provisioning', 'queued', 'canceled', 'failed'],
  // Provisioning fails over → matching again, or queued when candidates are exhausted.
  provisioning: ['running', 'matching', 'queued', 'canceled', 'failed'],
  // A lost node or preemption requeues the job (resume from the last checkpoint).
  running: ['uploading', 'queued', 'succeeded', 'failed', 'canceled', 'budget_exhausted'],
  uploading: ['succeeded', 'failed', 'canceled', 'queued'],
  succeeded: [],
  failed: [],
  canceled: [],
  budget_exhausted: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.includes(status);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

export const ATTEMPT_STATUSES = ['provisioning', 'running', 'uploading', 'ended'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export const END_REASONS = ['completed', 'node_lost', 'preempted', 'no_capacity', 'user_canceled', 'budget_exhausted', 'max_duration', 'error'] as const;
export type EndReason = (typeof END_REASONS)[number];

const ATTEMPT_TRANSITIONS: Record<AttemptStatus, readonly AttemptStatus[]> = {
  provisioning: ['running', 'ended'],
  running: ['uploading', 'ended'],
  uploading: ['ended'],
  ended: [],
};

export function canTransitionAttempt(from: AttemptStatus, to: AttemptStatus): boolean {
  return ATTEMPT_TRANSITIONS[from].includes(to);
}

export interface AttemptOutcome {
  /** What the job becomes. */
  jobStatus: JobStatus;
  /** Whether the job goes back to the queue for another attempt. */
  requeue: boolean;
  /** A sentence for the job's event log. */
  message: string;
}

/**
 * What an attempt's end means for its job: completion succeeds it; a lost node or preemption
 * requeues it while attempts remain; the user's cancel and the budget cap end it.
 */
export function outcomeOfAttempt(reason: EndReason, attemptsSoFar: number, maxAttempts: number): AttemptOutcome {
  switch (reason) {
    case 'completed':
      return { jobStatus: 'succeeded', requeue: false, message: 'Training finished and the artifacts were uploaded.' };
    case 'user_canceled':
      return { jobStatus: 'canceled', requeue: false, message: 'Canceled by the user.' };
    case 'budget_exhausted':
      return { jobStatus: 'budget_exhausted', requeue: false, message: 'Stopped at the budget cap after a final checkpoint; charged exactly the cap.' };
    case 'max_duration':
      return { jobStatus: 'failed', requeue: false, message: 'Stopped at the maximum duration after a final checkpoint.' };
    case 'node_lost':
    case 'preempted':
    case 'no_capacity': {
      const what = reason === 'node_lost' ? 'The machine stopped responding' : reason === 'preempted' ? 'The spot machine was reclaimed' : 'The provider had no capacity';
      if (attemptsSoFar < maxAttempts) {
        return { jobStatus: 'queued', requeue: true, message: `${what}; the job is queued again and resumes from its last checkpoint (attempt ${attemptsSoFar} of ${maxAttempts}).` };
      }
      return { jobStatus: 'failed', requeue: false, message: `${what}, and all ${maxAttempts} attempts are used.` };
    }
    case 'error':
      return { jobStatus: 'failed', requeue: false, message: 'The training process failed; see the logs.' };
  }
}

/** Exponential backoff for a job waiting on capacity: 5 s, 10 s, 20 s … capped at 5 minutes. */
export function retryDelaySeconds(failedRounds: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, failedRounds - 1));
}
