import type { Assignment, AttemptEventBody, CancelReason, ExitReason } from '@anneal/providers';

/** Why the agent asks a runner to stop early. */
export type StopRequest =
  | { kind: 'cancel'; reason: CancelReason }
  /** The node drains or shuts down: checkpoint if possible, then stop. */
  | { kind: 'drain' }
  | { kind: 'max_duration' }
  | { kind: 'budget' };

/** Events a runner may report while it runs (the agent stamps ids, seq and time on them). */
export type RunnerEvent = Extract<AttemptEventBody, { type: 'step' | 'log' | 'validation' | 'checkpoint' | 'benchmark_sample' }>;

export interface RunnerContext {
  assignment: Assignment;
  /** GPU indices the attempt may use. */
  gpuIndices: number[];
  /** Aborted with a {@link StopRequest} as its reason when the runner must stop. */
  signal: AbortSignal;
  report(event: RunnerEvent): void;
  nowMs(): number;
}

export interface RunOutcome {
  exitReason: ExitReason;
  message: string | null;
  steps: number;
  loss: number | null;
  stepTimeMsMean: number | null;
  artifactKeys: string[];
}

/**
 * Runs one attempt on this node. Implementations (container, process, the synthetic trainer) come
 * with their own issue; the agent only needs this contract: run until done or until `signal`
 * aborts, report progress through `report`, resolve with the outcome (never reject for a job
 * failure: resolve with exitReason 'error').
 */
export interface Runner {
  /** Reported in the `started` event, so the API and the customer see what ran. */
  readonly name: string;
  run(context: RunnerContext): Promise<RunOutcome>;
}

/** The exit reason for a stop request. */
export function exitReasonFor(stop: StopRequest): ExitReason {
  switch (stop.kind) {
    case 'cancel':
      return 'canceled';
    case 'drain':
      return 'preempted';
    case 'max_duration':
      return 'max_duration_exceeded';
    case 'budget':
      return 'budget_exhausted';
  }
}
