export type ContainerRuntime = 'docker' | 'podman';

/** Where the host directories appear inside the container. */
export const CONTAINER_PATHS = {
  datasetDir: '/anneal/dataset',
  datasetPath: '/anneal/dataset/data',
  outputDir: '/anneal/output',
  checkpointDir: '/anneal/checkpoints',
  resumeDir: '/anneal/resume',
  resumeCheckpointPath: '/anneal/resume/checkpoint',
  recipePath: '/anneal/recipe.json',
} as const;

export interface ContainerRunSpec {
  runtime: ContainerRuntime;
  image: string;
  /** Unique per attempt, so the agent can `kill` it; holds no id of the job or attempt. */
  containerName: string;
  /** GPU indices to pass through; null: every GPU; [] (a simulated node): none. */
  gpuIndices: readonly number[] | null;
  host: { datasetDir: string; outputDir: string; checkpointDir: string; resumeDir: string | null; recipePath: string };
  env: Readonly<Record<string, string>>;
  /** `uid:gid` to run as, so files in the output mount belong to the agent's user. */
  user: string | null;
}

/**
 * The exact command line that starts a trainer container. Pure, so it is unit-tested to the
 * argument. Docker passes GPUs with `--gpus all` / `--gpus "device=0,1"` (NVIDIA Container Toolkit);
 * podman with CDI devices `--device nvidia.com/gpu=all` / one `--device nvidia.com/gpu=N` per GPU.
 * The dataset, the resume checkpoint and the recipe are mounted read-only; outputs and checkpoints
 * read-write. `--rm` removes the container afterwards, `--init` forwards signals to the trainer.
 */
export function buildContainerCommand(spec: ContainerRunSpec): { command: string; args: string[] } {
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(spec.image)) throw new Error(`not a valid image reference: ${spec.image}`);
  const args = ['run', '--rm', '--init', '--name', spec.containerName, '--ipc=host', '--pull=missing'];
  args.push(...gpuArgs(spec.runtime, spec.gpuIndices));
  if (spec.user) args.push('--user', spec.user);
  const mount = (host: string, container: string, readOnly: boolean) => args.push('--volume', `${host}:${container}${readOnly ? ':ro' : ''}`);
  mount(spec.host.datasetDir, CONTAINER_PATHS.datasetDir, true);
  if (spec.host.resumeDir) mount(spec.host.resumeDir, CONTAINER_PATHS.resumeDir, true);
  mount(spec.host.recipePath, CONTAINER_PATHS.recipePath, true);
  mount(spec.host.outputDir, CONTAINER_PATHS.outputDir, false);
  mount(spec.host.checkpointDir, CONTAINER_PATHS.checkpointDir, false);
  for (const [key, value] of Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) args.push('--env', `${key}=${value}`);
  args.push(spec.image);
  return { command: spec.runtime, args };
}

function gpuArgs(runtime: ContainerRuntime, indices: readonly number[] | null): string[] {
  if (indices !== null && indices.length === 0) return [];
  if (runtime === 'podman') {
    return indices === null ? ['--device', 'nvidia.com/gpu=all'] : indices.flatMap((index) => ['--device', `nvidia.com/gpu=${index}`]);
  }
  // docker's --gpus value is CSV: a list of devices must itself be quoted
  return ['--gpus', indices === null ? 'all' : indices.length === 1 ? `device=${indices[0]}` : `"device=${indices.join(',')}"`];
}

/** Maps a path a containerized trainer printed to the host; null when it is outside the writable mounts. */
export function hostPathFor(containerPath: string, host: { outputDir: string; checkpointDir: string }): string | null {
  const normalized = containerPath.startsWith('/') ? containerPath : `${CONTAINER_PATHS.checkpointDir}/${containerPath}`;
  const parts = normalized.split('/').filter(Boolean);
  if (parts.includes('..')) return null;
  for (const [inside, outside] of [
    [CONTAINER_PATHS.checkpointDir, host.checkpointDir],
    [CONTAINER_PATHS.outputDir, host.outputDir],
  ] as const) {
    const prefix = inside.split('/').filter(Boolean);
    if (prefix.every((part, i) => parts[i] === part)) return [outside, ...parts.slice(prefix.length)].join('/');
  }
  return null;
}
