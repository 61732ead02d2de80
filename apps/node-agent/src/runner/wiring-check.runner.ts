import type { Runner, RunnerContext, RunOutcome, StopRequest } from './runner.js';
import { exitReasonFor } from './runner.js';

export interface WiringCheckRunnerOptions {
  /** Steps to report (the recipe's step count, capped at this). */
  maxSteps?: number;
  /** Pause between steps. */
  stepDelayMs?: number;
}

/**
 * NOT a trainer. The minimal built-in runner that proves the agent's wiring end to end: it reports
 * `step` metrics for a few steps (a made-up, decreasing loss and the measured step time), then
 * finishes. It downloads nothing, trains nothing and uploads nothing (artifactKeys is empty), and
 * says so in its outcome message. The agent uses it only on simulated nodes; real runners
 * (container, process, the synthetic trainer) are a separate piece of work.
 */
export class WiringCheckRunner implements Runner {
  readonly name = 'wiring-check';
  readonly measuresTraining = false;
  private readonly maxSteps: number;
  private readonly stepDelayMs: number;

  constructor(options: WiringCheckRunnerOptions = {}) {
    this.maxSteps = options.maxSteps ?? 5;
    this.stepDelayMs = options.stepDelayMs ?? 500;
  }

  async run(context: RunnerContext): Promise<RunOutcome> {
    const totalSteps = Math.min(this.maxSteps, context.assignment.attempt.recipe.steps ?? this.maxSteps);
    const stepTimes: number[] = [];
    let loss: number | null = null;
    context.report({ type: 'log', stream: 'agent', line: `wiring-check runner: reporting ${totalSteps} made-up steps; no training is performed` });
    for (let step = 1; step <= totalSteps; step += 1) {
      const started = context.nowMs();
      const stop = await pause(this.stepDelayMs, context.signal);
      if (stop) return this.outcome(stepTimes, loss, exitReasonFor(stop), 'wiring-check runner stopped early; no training was performed');
      const stepTimeMs = Math.max(0, context.nowMs() - started);
      stepTimes.push(stepTimeMs);
      loss = Math.round((2.5 / Math.sqrt(step)) * 1000) / 1000;
      context.report({ type: 'step', step, totalSteps, loss, stepTimeMs, tokensPerS: null, gpuUtilizationPct: null });
    }
    return this.outcome(stepTimes, loss, 'completed', 'wiring-check runner: no training was performed');
  }

  private outcome(stepTimes: number[], loss: number | null, exitReason: RunOutcome['exitReason'], message: string): RunOutcome {
    const mean = stepTimes.length ? stepTimes.reduce((sum, value) => sum + value, 0) / stepTimes.length : null;
    return { exitReason, message, steps: stepTimes.length, loss, stepTimeMsMean: mean, artifactKeys: [] };
  }
}

/** Waits `ms`, or until `signal` aborts; returns the stop request when aborted. */
function pause(ms: number, signal: AbortSignal): Promise<StopRequest | null> {
  if (signal.aborted) return Promise.resolve(signal.reason as StopRequest);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(signal.reason as StopRequest);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(null);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
