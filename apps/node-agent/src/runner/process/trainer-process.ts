import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { AttemptWorkspace } from '../io/attempt-workspace.js';
import { exitReasonFor, type RunnerContext, type RunOutcome, type StopRequest } from '../runner.js';
import { RunningStats } from '../step-stats.js';
import { parseTrainerLine } from './trainer-output.parser.js';

export interface TrainerProcessSpec {
  /** Executable and arguments (no shell: the caller decides whether to run one). */
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves a checkpoint path the trainer printed to a path on this host, or null when it points outside the attempt. */
  resolveCheckpointPath(path: string): string | null;
  /** How long a stopped trainer may take to write its final checkpoint and exit after SIGTERM. */
  stopGraceMs: number;
  /** Called when the grace period ends (e.g. `docker kill`), before the process group gets SIGKILL. */
  forceStop?: () => Promise<void>;
  /** Reported in logs: "process", "docker container". */
  label: string;
}

interface ReportedCheckpoint {
  step: number;
  path: string;
  uploaded: boolean;
}

/**
 * Runs a trainer as a child process (its own process group) and turns its stdout JSON lines into
 * attempt events (see `parseTrainerLine`), stderr and other stdout lines into batched logs. A stop
 * sends SIGTERM (the trainer should write a checkpoint, print its checkpoint line and exit), then
 * after `stopGraceMs` force-stops it. Checkpoints it prints are uploaded as they come (interval
 * ones while slots last, keeping the last slot); the last one printed after a stop, or at a clean
 * end, is the final checkpoint. On exit code 0 the output directory is uploaded as the artifact.
 */
export async function runTrainerProcess(context: RunnerContext, ws: AttemptWorkspace, spec: TrainerProcessSpec): Promise<RunOutcome> {
  const stepTimes = new RunningStats();
  let steps = 0;
  let loss: number | null = null;
  let lastStepAtMs = context.nowMs();
  let lastStderr = '';
  const checkpoints: ReportedCheckpoint[] = [];
  let uploads: Promise<void> = Promise.resolve();
  let uploadError: Error | null = null;
  const outcome = (exitReason: RunOutcome['exitReason'], message: string | null): RunOutcome => ({
    exitReason,
    message,
    steps,
    loss,
    stepTimeMsMean: stepTimes.meanOrNull(),
    artifactKeys: [...ws.uploadedKeys],
  });

  const child = spawn(spec.command, spec.args, { env: spec.env, cwd: spec.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error: Error | null }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal, error: null }));
  });
  ws.log('agent', `${spec.label} started: ${[spec.command, ...spec.args].join(' ').slice(0, 2000)}`);

  const killGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  };
  let stop: StopRequest | null = null;
  let graceTimer: NodeJS.Timeout | null = null;
  const onAbort = () => {
    stop = context.signal.reason as StopRequest;
    ws.log('agent', `stopping the trainer (${exitReasonFor(stop)}): SIGTERM, ${Math.round(spec.stopGraceMs / 1000)} s to checkpoint and exit`);
    killGroup('SIGTERM');
    graceTimer = setTimeout(() => {
      ws.log('agent', 'the trainer did not exit in time; killing it');
      void (spec.forceStop?.() ?? Promise.resolve()).catch(() => undefined).finally(() => killGroup('SIGKILL'));
    }, spec.stopGraceMs);
  };
  if (context.signal.aborted) onAbort();
  else context.signal.addEventListener('abort', onAbort, { once: true });

  const queueUpload = (checkpoint: ReportedCheckpoint, reason: Parameters<AttemptWorkspace['uploadCheckpoint']>[2]) => {
    uploads = uploads.then(async () => {
      if (checkpoint.uploaded || uploadError) return;
      const path = spec.resolveCheckpointPath(checkpoint.path);
      if (!path) {
        ws.log('agent', `ignored checkpoint path outside the attempt's directories: ${checkpoint.path}`);
        return;
      }
      try {
        const key = await ws.uploadCheckpoint(path, checkpoint.step, reason);
        if (key) checkpoint.uploaded = true;
      } catch (error) {
        uploadError = error instanceof Error ? error : new Error(String(error));
        ws.log('agent', `checkpoint upload failed: ${uploadError.message}`);
      }
    });
  };

  const stdout = createInterface({ input: child.stdout });
  const stdoutClosed = new Promise((resolve) => stdout.once('close', resolve));
  stdout.on('line', (line) => {
    const message = parseTrainerLine(line);
    switch (message.kind) {
      case 'log':
        ws.log('stdout', message.line);
        return;
      case 'invalid':
        ws.log('stdout', message.line);
        ws.log('agent', `trainer line ignored: ${message.reason}`);
        return;
      case 'step': {
        const nowMs = context.nowMs();
        // Without its own timing, a step took the time since the previous one (the first: since the start).
        const stepTimeMs = message.stepTimeMs ?? Math.max(0, nowMs - lastStepAtMs);
        lastStepAtMs = nowMs;
        steps += 1;
        if (message.loss !== null) loss = message.loss;
        stepTimes.add(stepTimeMs);
        context.report({
          type: 'step',
          step: message.step,
          totalSteps: message.totalSteps ?? context.assignment.attempt.recipe.steps,
          loss: message.loss,
          stepTimeMs,
          tokensPerS: message.tokensPerS,
          gpuUtilizationPct: message.gpuUtilizationPct ?? context.gpuUtilizationPct(),
        });
        return;
      }
      case 'validation':
        context.report({ type: 'validation', step: message.step, promptCount: message.promptCount, timePerPromptMs: message.totalTimeMs / message.promptCount, totalTimeMs: message.totalTimeMs });
        return;
      case 'checkpoint': {
        const checkpoint: ReportedCheckpoint = { step: message.step, path: message.path, uploaded: false };
        checkpoints.push(checkpoint);
        if (stop) queueUpload(checkpoint, exitReasonFor(stop));
        else if (ws.canCheckpointOnInterval()) queueUpload(checkpoint, 'interval');
        return;
      }
    }
  });
  const stderr = createInterface({ input: child.stderr });
  const stderrClosed = new Promise((resolve) => stderr.once('close', resolve));
  stderr.on('line', (line) => {
    lastStderr = line;
    ws.log('stderr', line);
  });

  const exit = await exited;
  // every line read before deciding (the streams close before the process's 'close' event)
  await Promise.all([stdoutClosed, stderrClosed]);
  if (graceTimer) clearTimeout(graceTimer);
  context.signal.removeEventListener('abort', onAbort);
  await uploads;
  const stopped = stop as StopRequest | null;

  if (exit.error) {
    ws.log('agent', `the trainer could not be started: ${exit.error.message}`);
    await ws.finishLogs().catch(() => null);
    return outcome('error', `the trainer could not be started: ${exit.error.message}`);
  }
  const last = checkpoints.at(-1);
  if (stopped) {
    const reason = exitReasonFor(stopped);
    if (last && !last.uploaded) {
      queueUpload(last, reason);
      await uploads;
    }
    if (!checkpoints.some((checkpoint) => checkpoint.uploaded)) ws.log('agent', 'the trainer left no checkpoint to upload');
    await ws.finishLogs().catch(() => null);
    return outcome(reason, `stopped after ${steps} steps (${reason})`);
  }
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    ws.log('agent', `the trainer ${how}`);
    await ws.finishLogs().catch(() => null);
    return outcome('error', `the trainer ${how}${lastStderr ? `: ${lastStderr.slice(0, 500)}` : ''}`);
  }
  if (last && !last.uploaded) {
    queueUpload(last, 'completed');
    await uploads;
  }
  if (uploadError) {
    await ws.finishLogs().catch(() => null);
    return outcome('error', `an upload failed: ${(uploadError as Error).message}`);
  }
  try {
    await ws.uploadOutputs();
    await ws.finishLogs();
  } catch (error) {
    return outcome('error', `an upload failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return outcome('completed', `the trainer finished after ${steps} steps`);
}
