import type { Assignment, AttemptEventBody, CancelReason, ExitReason, GpuTelemetry } from '@anneal/providers';
import type { AttemptStorageApi } from './io/attempt-storage.client.js';

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
  /** Telemetry of the attempt's GPUs when it started (catalog ids, names). */
  gpus: GpuTelemetry[];
  /** A simulated node: no real GPU; telemetry is made up. */
  simulated: boolean;
  /** Mean utilisation (%) of the attempt's GPUs from the latest real telemetry; null on simulated nodes or when unknown. */
  gpuUtilizationPct(): number | null;
  /** A private, empty directory for this attempt; the agent deletes it afterwards. */
  workDir: string;
  /**
   * The API, asked with the attempt token for the presigned URLs the assignment does not carry
   * (and for fresh ones when the store refuses a URL). Null: the agent knows no API, so only the
   * assignment's own URLs can be used.
   */
  storage: AttemptStorageApi | null;
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
 * Runs one attempt on this node (`container`, `process`, the `synthetic` trainer; `wiring-check`
 * for daemon tests): run until done or until `signal` aborts (then take a final checkpoint when
 * possible), report progress through `report`, resolve with the outcome (never reject for a job
 * failure: resolve with exitReason 'error').
 */
export interface Runner {
  /** Reported in the `started` event, so the API and the customer see what ran. */
  readonly name: string;
  /**
   * Whether the agent may turn this runner's step and validation timings into an anonymized
   * benchmark sample at the end (false for runners that do not really train).
   */
  readonly measuresTraining: boolean;
  run(context: RunnerContext): Promise<RunOutcome>;
}

/** The exit reason for a stop request. */
export function exitReasonFor(stop: StopRequest): Exclude<ExitReason, 'completed' | 'error'> {
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
