import type { CommandRunner } from '../../gpu/command-runner.js';
import type { ContainerRuntime } from './container-command.js';

/**
 * The container runtime this host can use: docker when `docker info` reaches an engine, else podman
 * when `podman info` works, else null. A `docker` CLI without a running engine does not count.
 */
export async function detectContainerRuntime(run: CommandRunner): Promise<ContainerRuntime | null> {
  for (const runtime of ['docker', 'podman'] as const) {
    try {
      const result = await run(runtime, ['info'], { timeoutMs: 15_000 });
      if (result.exitCode === 0) return runtime;
    } catch {
      // not installed
    }
  }
  return null;
}
