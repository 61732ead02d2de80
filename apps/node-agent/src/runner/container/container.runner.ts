import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Assignment } from '@anneal/providers';
import { AttemptWorkspace } from '../io/attempt-workspace.js';
import { prepareInputs } from '../process/process.runner.js';
import { trainerEnv } from '../process/trainer-env.js';
import { runTrainerProcess } from '../process/trainer-process.js';
import type { Runner, RunnerContext, RunOutcome } from '../runner.js';
import { buildContainerCommand, CONTAINER_PATHS, hostPathFor, type ContainerRuntime } from './container-command.js';

export interface ContainerRunnerOptions {
  runtime: ContainerRuntime;
  /** Image when the assignment names none (`attempt.trainerImage`). */
  defaultImage: string | null;
  stopGraceMs?: number;
  /** Environment of the runtime CLI itself (default: the agent's). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The `container` runner: runs the trainer image with docker or podman, GPUs passed through, the
 * dataset mounted read-only, output and checkpoint directories mounted, the recipe in env and a
 * JSON file. Same stdout contract as the `process` runner.
 */
export class ContainerRunner implements Runner {
  readonly name: string;
  readonly measuresTraining = true;

  constructor(private readonly options: ContainerRunnerOptions) {
    this.name = `container (${options.runtime})`;
  }

  async run(context: RunnerContext): Promise<RunOutcome> {
    const ws = new AttemptWorkspace(context);
    const image = trainerImageFor(context.assignment, this.options.defaultImage);
    if (!image) {
      ws.log('agent', 'no trainer image: the assignment names none and the agent has no --image default');
      await ws.finishLogs().catch(() => null);
      return { exitReason: 'error', message: 'no trainer image: the assignment names none and the agent has no default image', steps: 0, loss: null, stepTimeMsMean: null, artifactKeys: [] };
    }
    const prepared = await prepareInputs(context, ws);
    if (prepared) return prepared;
    const resuming = Boolean(context.assignment.resumeCheckpoint);
    const containerName = `anneal-attempt-${randomBytes(6).toString('hex')}`;
    const { command, args } = buildContainerCommand({
      runtime: this.options.runtime,
      image,
      containerName,
      gpuIndices: context.simulated ? [] : context.assignment.attempt.gpuIndices === null ? null : context.gpuIndices,
      host: { datasetDir: ws.datasetDir, outputDir: ws.outputDir, checkpointDir: ws.checkpointDir, resumeDir: resuming ? ws.resumeDir : null, recipePath: ws.recipePath },
      env: trainerEnv(context.assignment, {
        datasetPath: CONTAINER_PATHS.datasetPath,
        outputDir: CONTAINER_PATHS.outputDir,
        checkpointDir: CONTAINER_PATHS.checkpointDir,
        recipePath: CONTAINER_PATHS.recipePath,
        resumeCheckpointPath: resuming ? CONTAINER_PATHS.resumeCheckpointPath : null,
      }),
      user: typeof process.getuid === 'function' && typeof process.getgid === 'function' ? `${process.getuid()}:${process.getgid()}` : null,
    });
    const env = this.options.env ?? process.env;
    return runTrainerProcess(context, ws, {
      command,
      args,
      env,
      stopGraceMs: this.options.stopGraceMs ?? 30_000,
      label: `${this.options.runtime} container`,
      resolveCheckpointPath: (path) => hostPathFor(path, { outputDir: ws.outputDir, checkpointDir: ws.checkpointDir }),
      forceStop: () => killContainer(command, containerName, env),
    });
  }
}

const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;

/**
 * The image to run: the assignment's `attempt.trainerImage`, else the recipe's `image`
 * hyperparameter (when it is a valid image reference), else the agent's `--image` default.
 */
export function trainerImageFor(assignment: Assignment, defaultImage: string | null): string | null {
  const fromRecipe = assignment.attempt.recipe.hyperparameters.image;
  return assignment.attempt.trainerImage ?? (typeof fromRecipe === 'string' && fromRecipe.length <= 500 && IMAGE_REF.test(fromRecipe) ? fromRecipe : null) ?? defaultImage;
}

async function killContainer(runtime: string, name: string, env: NodeJS.ProcessEnv): Promise<void> {
  await new Promise<void>((resolve) => execFile(runtime, ['kill', name], { env, timeout: 15_000 }, () => resolve()));
}
