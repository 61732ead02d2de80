import type { CommandRunner } from '../gpu/command-runner.js';
import { ContainerRunner } from './container/container.runner.js';
import { detectContainerRuntime } from './container/container-runtime.js';
import type { ContainerRuntime } from './container/container-command.js';
import { ProcessRunner } from './process/process.runner.js';
import type { Runner } from './runner.js';
import { SyntheticRunner } from './synthetic/synthetic.runner.js';

export type RunnerChoice = 'container' | 'process' | 'synthetic';

export interface RunnerConfig {
  simulated: boolean;
  /** `--runner`: forces one runner; null picks by the rules below. */
  runner: RunnerChoice | null;
  /** `--command`: the process runner's command line. */
  command: string | null;
  /** `--image`: the container runner's default image (an assignment may name its own). */
  image: string | null;
  /** The container runtime found on this host, if any. */
  runtime: ContainerRuntime | null;
}

export type RunnerSelection = { ok: true; runner: Runner; description: string } | { ok: false; reason: string };

/**
 * Which runner this node uses for every attempt:
 * - `--runner X` forces X (container needs a runtime, process needs `--command`);
 * - a simulated node runs the built-in synthetic trainer (it has no GPU for a container);
 * - a real node uses `container` when docker or podman works, else `process` when `--command` is
 *   set, else none: it rejects assignments with the reason.
 */
export function selectRunner(config: RunnerConfig): RunnerSelection {
  const container = (): RunnerSelection =>
    config.runtime
      ? { ok: true, runner: new ContainerRunner({ runtime: config.runtime, defaultImage: config.image }), description: `container (${config.runtime}${config.image ? `, default image ${config.image}` : ''})` }
      : { ok: false, reason: 'the container runner needs docker or podman with a running engine, and neither answered `info` on this host' };
  const processRunner = (): RunnerSelection =>
    config.command
      ? { ok: true, runner: new ProcessRunner({ command: config.command }), description: `process (${config.command})` }
      : { ok: false, reason: 'the process runner needs a command: start the agent with --runner process --command "python train.py"' };
  switch (config.runner) {
    case 'container':
      return container();
    case 'process':
      return processRunner();
    case 'synthetic':
      return { ok: true, runner: new SyntheticRunner(), description: 'synthetic (built-in CPU trainer)' };
    case null:
      break;
  }
  if (config.simulated) return { ok: true, runner: new SyntheticRunner(), description: 'synthetic (built-in CPU trainer; simulated node)' };
  if (config.runtime) return container();
  if (config.command) return processRunner();
  return {
    ok: false,
    reason: 'this node has no way to run training: install docker or podman (with the NVIDIA container toolkit), or start the agent with --runner process --command "…"',
  };
}

/** Detects the container runtime only when the selection could use it. */
export async function runnerConfigFor(options: Omit<RunnerConfig, 'runtime'>, run: CommandRunner): Promise<RunnerConfig> {
  const mayUseContainer = options.runner === 'container' || (options.runner === null && !options.simulated);
  return { ...options, runtime: mayUseContainer ? await detectContainerRuntime(run) : null };
}
