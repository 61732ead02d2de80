import { describe, expect, it } from 'vitest';
import { selectRunner, runnerConfigFor, type RunnerConfig } from './runner-selection.js';

const base: RunnerConfig = { simulated: false, runner: null, command: null, image: null, runtime: null };
const pick = (config: Partial<RunnerConfig>) => {
  const selection = selectRunner({ ...base, ...config });
  return selection.ok ? selection.runner.name : `rejects: ${selection.reason}`;
};

describe('selectRunner', () => {
  it('runs the synthetic trainer on simulated nodes', () => {
    expect(pick({ simulated: true })).toBe('synthetic-char-mlp');
    expect(pick({ simulated: true, runtime: 'docker' })).toBe('synthetic-char-mlp');
  });

  it('prefers a container runtime on real nodes, then a configured process, else rejects with a reason', () => {
    expect(pick({ runtime: 'docker', command: 'python train.py' })).toBe('container (docker)');
    expect(pick({ runtime: 'podman' })).toBe('container (podman)');
    expect(pick({ command: 'python train.py' })).toBe('process');
    expect(pick({})).toMatch(/^rejects: this node has no way to run training: install docker or podman/);
  });

  it('honours --runner, and says what a forced runner is missing', () => {
    expect(pick({ runner: 'process', command: 'python train.py', runtime: 'docker' })).toBe('process');
    expect(pick({ runner: 'synthetic' })).toBe('synthetic-char-mlp');
    expect(pick({ runner: 'process' })).toMatch(/needs a command/);
    expect(pick({ runner: 'container', simulated: true })).toMatch(/needs docker or podman/);
  });

  it('detects a runtime only when it could be used', async () => {
    const calls: string[] = [];
    const run = async (command: string) => {
      calls.push(command);
      return command === 'podman' ? { exitCode: 0, stdout: '', stderr: '', failure: null } : { exitCode: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon', failure: null };
    };
    expect((await runnerConfigFor({ simulated: true, runner: null, command: null, image: null }, run)).runtime).toBeNull();
    expect(calls).toEqual([]);
    expect((await runnerConfigFor({ simulated: false, runner: null, command: null, image: null }, run)).runtime).toBe('podman');
    expect(calls).toEqual(['docker', 'podman']);
  });
});
