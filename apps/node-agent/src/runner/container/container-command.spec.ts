import { describe, expect, it } from 'vitest';
import { buildContainerCommand, hostPathFor, type ContainerRunSpec } from './container-command.js';

const spec: ContainerRunSpec = {
  runtime: 'docker',
  image: 'ghcr.io/anneal/trainer-lora:1.4',
  containerName: 'anneal-attempt-0a1b2c',
  gpuIndices: null,
  host: { datasetDir: '/w/dataset', outputDir: '/w/output', checkpointDir: '/w/checkpoints', resumeDir: null, recipePath: '/w/recipe.json' },
  env: { ANNEAL_TOTAL_STEPS: '500', ANNEAL_BASE_MODEL: 'meta-llama/Llama-3.1-8B' },
  user: '1000:1000',
};

describe('buildContainerCommand', () => {
  it('builds the exact docker command line: all GPUs, read-only dataset and recipe, writable outputs, env, image last', () => {
    expect(buildContainerCommand(spec)).toEqual({
      command: 'docker',
      args: [
        'run', '--rm', '--init', '--name', 'anneal-attempt-0a1b2c', '--ipc=host', '--pull=missing',
        '--gpus', 'all',
        '--user', '1000:1000',
        '--volume', '/w/dataset:/anneal/dataset:ro',
        '--volume', '/w/recipe.json:/anneal/recipe.json:ro',
        '--volume', '/w/output:/anneal/output',
        '--volume', '/w/checkpoints:/anneal/checkpoints',
        '--env', 'ANNEAL_BASE_MODEL=meta-llama/Llama-3.1-8B',
        '--env', 'ANNEAL_TOTAL_STEPS=500',
        'ghcr.io/anneal/trainer-lora:1.4',
      ],
    });
  });

  it('passes chosen GPUs the way each runtime wants them', () => {
    const docker = (gpuIndices: number[] | null) => buildContainerCommand({ ...spec, gpuIndices }).args;
    expect(docker([2])).toContain('device=2');
    const two = docker([0, 1]);
    expect(two[two.indexOf('--gpus') + 1]).toBe('"device=0,1"');
    expect(docker([])).not.toContain('--gpus');
    const podman = (gpuIndices: number[] | null) => buildContainerCommand({ ...spec, runtime: 'podman', gpuIndices });
    expect(podman(null).command).toBe('podman');
    expect(podman(null).args.join(' ')).toContain('--device nvidia.com/gpu=all');
    expect(podman([0, 3]).args.join(' ')).toContain('--device nvidia.com/gpu=0 --device nvidia.com/gpu=3');
    expect(podman([0, 3]).args).not.toContain('--gpus');
  });

  it('mounts the resume checkpoint read-only when resuming, and runs as root when no user is given', () => {
    const { args } = buildContainerCommand({ ...spec, user: null, host: { ...spec.host, resumeDir: '/w/resume' } });
    expect(args).toContain('/w/resume:/anneal/resume:ro');
    expect(args).not.toContain('--user');
  });

  it('refuses an image reference that could be read as an option or a shell word', () => {
    expect(() => buildContainerCommand({ ...spec, image: '--privileged' })).toThrow(/image reference/);
    expect(() => buildContainerCommand({ ...spec, image: 'img; rm -rf /' })).toThrow(/image reference/);
  });
});

describe('hostPathFor', () => {
  const host = { outputDir: '/w/output', checkpointDir: '/w/checkpoints' };
  it('maps container paths in the writable mounts to the host, relative ones into the checkpoint dir', () => {
    expect(hostPathFor('/anneal/checkpoints/step-10', host)).toBe('/w/checkpoints/step-10');
    expect(hostPathFor('/anneal/output/model.bin', host)).toBe('/w/output/model.bin');
    expect(hostPathFor('step-10/weights', host)).toBe('/w/checkpoints/step-10/weights');
  });
  it('refuses paths outside them', () => {
    expect(hostPathFor('/etc/passwd', host)).toBeNull();
    expect(hostPathFor('/anneal/checkpoints/../../etc/passwd', host)).toBeNull();
    expect(hostPathFor('../x', host)).toBeNull();
    expect(hostPathFor('/anneal/checkpointsX/y', host)).toBeNull();
  });
});
