import { lookupGpu } from '@anneal/benchmarks';
import { gpuTelemetrySchema } from '@anneal/providers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../agent.errors.js';
import { parseSimulateSpec, simulatedTelemetry } from './simulated-gpus.js';

describe('parseSimulateSpec', () => {
  it.each([
    ['2x RTX 4090', 2, 'rtx-4090'],
    ['2 x RTX 4090', 2, 'rtx-4090'],
    ['8xA100-SXM4-80GB', 8, 'a100-80gb-sxm'],
    ['L4', 1, 'l4'],
    ['1× H100 80GB HBM3', 1, 'h100-sxm'],
  ])('reads %s', (spec, count, gpuId) => {
    expect(parseSimulateSpec(spec, lookupGpu)).toMatchObject({ count, gpuId, source: spec });
  });

  it('reports the name a driver would print', () => {
    expect(parseSimulateSpec('2x RTX 4090', lookupGpu).reportedName).toBe('NVIDIA GeForce RTX 4090');
  });

  it('refuses unknown GPU names with a code', () => {
    expect(() => parseSimulateSpec('2x RTX 9090', lookupGpu)).toThrowError(expect.objectContaining({ code: 'unknown_gpu' }) as Error);
  });

  it.each(['', '0x RTX 4090', '17x RTX 4090', '2x '])('refuses the spec %j', (spec) => {
    let error: unknown;
    try {
      parseSimulateSpec(spec, lookupGpu);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AgentError);
    expect(['invalid_simulate', 'unknown_gpu']).toContain((error as AgentError).code);
  });
});

describe('simulatedTelemetry', () => {
  const spec = parseSimulateSpec('2x RTX 4090', lookupGpu);

  it('is always valid protocol telemetry, idle or busy', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 40, maxLength: 40 }), (busy, randoms) => {
        let i = 0;
        const gpus = simulatedTelemetry(spec, busy, () => randoms[i++ % randoms.length]!);
        expect(gpus).toHaveLength(2);
        for (const gpu of gpus) expect(gpuTelemetrySchema.parse(gpu)).toEqual(gpu);
      }),
    );
  });

  it('looks busy when busy and idle when idle', () => {
    const idle = simulatedTelemetry(spec, false, () => 0.5);
    const busy = simulatedTelemetry(spec, true, () => 0.5);
    expect(idle[0]).toMatchObject({ gpuId: 'rtx-4090', utilizationPct: 1, temperatureC: 35 });
    expect(busy[0]!.utilizationPct).toBeGreaterThan(90);
    expect(busy[0]!.vramUsedMb!).toBeGreaterThan(idle[0]!.vramUsedMb!);
  });
});
