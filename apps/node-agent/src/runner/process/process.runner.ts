import { isAbsolute, relative, resolve } from 'node:path';
import { AttemptWorkspace } from '../io/attempt-workspace.js';
import { TransferError } from '../io/presigned-transfer.js';
import { exitReasonFor, type Runner, type RunnerContext, type RunOutcome, type StopRequest } from '../runner.js';
import { trainerEnv } from './trainer-env.js';
import { runTrainerProcess } from './trainer-process.js';

export interface ProcessRunnerOptions {
  /** The operator's command line, run by `/bin/sh -c` (e.g. `python train.py`). */
  command: string;
  /** Working directory of the command (default: the agent's). */
  cwd?: string;
  /** Seconds a stopped trainer gets to checkpoint and exit after SIGTERM. */
  stopGraceMs?: number;
  /** Base environment (default: the agent's own). */
  env?: NodeJS.ProcessEnv;
}

/** Whether `path` lies inside `dir` (or is `dir`). */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The `process` runner: runs an operator-configured command on the host (`anneal-agent run
 * --runner process --command "python train.py"`) with the recipe in its environment and a JSON
 * file, reads its progress from stdout JSON lines (the README's "Trainer contract").
 */
export class ProcessRunner implements Runner {
  readonly name = 'process';
  readonly measuresTraining = true;

  constructor(private readonly options: ProcessRunnerOptions) {}

  async run(context: RunnerContext): Promise<RunOutcome> {
    const ws = new AttemptWorkspace(context);
    const prepared = await prepareInputs(context, ws);
    if (prepared) return prepared;
    const { ANNEAL_AGENT_HOME: _agentHome, ...baseEnv } = this.options.env ?? process.env;
    const env = {
      ...baseEnv,
      ...trainerEnv(context.assignment, {
        datasetPath: ws.datasetPath,
        outputDir: ws.outputDir,
        checkpointDir: ws.checkpointDir,
        recipePath: ws.recipePath,
        resumeCheckpointPath: context.assignment.resumeCheckpoint ? ws.resumePath : null,
      }),
      // CUDA sees the attempt's GPUs only (a simulated node has none to hand out).
      ...(context.simulated ? {} : { CUDA_VISIBLE_DEVICES: context.gpuIndices.join(',') }),
    };
    return runTrainerProcess(context, ws, {
      command: '/bin/sh',
      args: ['-c', this.options.command],
      env,
      cwd: this.options.cwd,
      stopGraceMs: this.options.stopGraceMs ?? 30_000,
      label: 'trainer process',
      resolveCheckpointPath: (path) => {
        const resolved = resolve(ws.checkpointDir, path);
        return isInside(context.workDir, resolved) ? resolved : null;
      },
    });
  }
}

/** Downloads the dataset (and resume checkpoint); returns an outcome when the attempt cannot start. */
export async function prepareInputs(context: RunnerContext, ws: AttemptWorkspace): Promise<RunOutcome | null> {
  try {
    await ws.prepare();
    await ws.downloadDataset();
    await ws.downloadResumeCheckpoint();
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const stopped = context.signal.aborted && !(error instanceof TransferError);
    ws.log('agent', stopped ? `stopped before training started` : `could not prepare the attempt: ${message}`);
    await ws.finishLogs().catch(() => null);
    return {
      exitReason: stopped ? exitReasonFor(context.signal.reason as StopRequest) : 'error',
      message: stopped ? 'stopped before training started' : message,
      steps: 0,
      loss: null,
      stepTimeMsMean: null,
      artifactKeys: [...ws.uploadedKeys],
    };
  }
}
