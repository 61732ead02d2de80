import { describe, expect, it } from 'vitest';
import { machineMismatch } from './machine-match.js';
import { summarizeGpus } from './nodes.service.js';

/** GPUs as registration records them (summarizeGpus canonicalizes the reported names through the catalog). */
const registered = (...gpus: { name: string; gpuId?: string | null }[]) =>
  summarizeGpus(gpus.map((gpu, index) => ({ index, name: gpu.name, gpuId: gpu.gpuId ?? null, vramTotalMb: 24_564, vramUsedMb: 0, utilizationPct: 0, temperatureC: 30, powerW: null }))).registered;

describe('machineMismatch', () => {
  it('accepts the rented model and count, whatever spelling the driver reported', () => {
    expect(machineMismatch({ gpuModelId: 'rtx-4090', gpuCount: 1 }, registered({ name: 'NVIDIA GeForce RTX 4090' }))).toBeNull();
    expect(machineMismatch({ gpuModelId: 'rtx-4090', gpuCount: 2 }, registered({ name: 'NVIDIA GeForce RTX 4090', gpuId: 'rtx-4090' }, { name: 'rtx 4090' }))).toBeNull();
  });

  it('refuses another model, another count, a mixed machine, an unknown GPU or a MIG slice, naming both sides', () => {
    expect(machineMismatch({ gpuModelId: 'rtx-4090', gpuCount: 1 }, registered({ name: 'NVIDIA RTX A6000' }))).toBe('The machine has 1 × RTX A6000, but its attempt rented 1 × RTX 4090');
    expect(machineMismatch({ gpuModelId: 'rtx-4090', gpuCount: 2 }, registered({ name: 'NVIDIA GeForce RTX 4090' }))).toBe('The machine has 1 × RTX 4090, but its attempt rented 2 × RTX 4090');
    expect(machineMismatch({ gpuModelId: 'rtx-4090', gpuCount: 1 }, registered({ name: 'NVIDIA GeForce RTX 4090' }, { name: 'NVIDIA GeForce RTX 4090' }))).toMatch(/has 2 × RTX 4090/);
    expect(machineMismatch({ gpuModelId: 'rtx-4090', gpuCount: 2 }, registered({ name: 'NVIDIA GeForce RTX 4090' }, { name: 'NVIDIA L4' }))).toBe('The machine has 1 × RTX 4090 and 1 × L4, but its attempt rented 2 × RTX 4090');
    expect(machineMismatch({ gpuModelId: 'rtx-4090', gpuCount: 1 }, registered({ name: 'NVIDIA Imaginary X1' }))).toBe('The machine has 1 × NVIDIA Imaginary X1, but its attempt rented 1 × RTX 4090');
    expect(machineMismatch({ gpuModelId: 'a100-80gb-sxm', gpuCount: 1 }, registered({ name: 'NVIDIA A100-SXM4-80GB MIG 3g.40gb' }))).toMatch(/has 1 × NVIDIA A100-SXM4-80GB MIG 3g\.40gb/);
  });
});
