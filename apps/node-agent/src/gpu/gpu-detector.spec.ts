import { readFileSync } from 'node:fs';
import { lookupGpu } from '@anneal/benchmarks';
import { describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner } from './command-runner.js';
import { detectGpus } from './gpu-detector.js';
import { NVIDIA_SMI_ARGS } from './nvidia-smi.parser.js';

const answer = (result: Partial<CommandResult>): CommandRunner => async () => ({ exitCode: 0, stdout: '', stderr: '', failure: null, ...result });

describe('detectGpus', () => {
  it('runs the documented nvidia-smi query and returns the GPUs', async () => {
    const calls: Array<[string, readonly string[]]> = [];
    const run: CommandRunner = async (command, args) => {
      calls.push([command, args]);
      return { exitCode: 0, stdout: readFileSync(new URL('./fixtures/rtx4090-x2-na-power.txt', import.meta.url), 'utf8'), stderr: '', failure: null };
    };
    const detection = await detectGpus({ run, lookup: lookupGpu });
    expect(calls).toEqual([['nvidia-smi', NVIDIA_SMI_ARGS]]);
    expect(detection.kind === 'found' && detection.gpus.map((gpu) => gpu.gpuId)).toEqual(['rtx-4090', 'rtx-4090']);
  });

  it('reports a host without nvidia-smi', async () => {
    const detection = await detectGpus({ run: answer({ failure: 'not_found', exitCode: null }), lookup: lookupGpu });
    expect(detection).toMatchObject({ kind: 'none', reason: expect.stringMatching(/not installed/) });
  });

  it('reports a broken driver with what nvidia-smi said', async () => {
    const stdout = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n";
    const detection = await detectGpus({ run: answer({ exitCode: 9, stdout }), lookup: lookupGpu });
    expect(detection.kind).toBe('none');
    expect(detection.kind === 'none' && detection.reason).toMatch(/exit code 9: NVIDIA-SMI has failed/);
  });

  it('reports a timeout', async () => {
    const detection = await detectGpus({ run: answer({ failure: 'timeout', exitCode: null }), lookup: lookupGpu, timeoutMs: 5 });
    expect(detection.kind === 'none' && detection.reason).toMatch(/did not answer within 5 ms/);
  });

  it('keeps healthy GPUs when nvidia-smi exits non-zero because one is lost', async () => {
    const stdout = readFileSync(new URL('./fixtures/gpu-lost.txt', import.meta.url), 'utf8');
    const detection = await detectGpus({ run: answer({ exitCode: 15, stdout }), lookup: lookupGpu });
    expect(detection.kind).toBe('found');
    expect(detection.warnings.at(-1)).toBe('nvidia-smi exited with code 15');
  });
});
