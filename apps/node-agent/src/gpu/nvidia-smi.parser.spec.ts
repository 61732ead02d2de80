import { readFileSync } from 'node:fs';
import { lookupGpu } from '@anneal/benchmarks';
import { gpuTelemetrySchema } from '@anneal/providers';
import { describe, expect, it } from 'vitest';
import type { GpuLookupFn } from './gpu-lookup.js';
import { parseNvidiaSmiCsv } from './nvidia-smi.parser.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}.txt`, import.meta.url), 'utf8');
const parse = (name: string) => parseNvidiaSmiCsv(fixture(name), lookupGpu);

describe('parseNvidiaSmiCsv (real nvidia-smi outputs)', () => {
  it.each([
    ['t4', 'Tesla T4', 't4', 15360],
    ['a10g', 'NVIDIA A10G', 'a10g', 23028],
    ['l4', 'NVIDIA L4', 'l4', 23034],
    ['h100-80gb-hbm3', 'NVIDIA H100 80GB HBM3', 'h100-sxm', 81559],
  ])('maps a single %s onto the catalog', (file, name, gpuId, vramTotalMb) => {
    const { gpus, warnings } = parse(file);
    expect(warnings).toEqual([]);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]).toMatchObject({ index: 0, name, gpuId, vramTotalMb });
    expect(gpuTelemetrySchema.safeParse(gpus[0]).success).toBe(true);
  });

  it('reads two RTX 4090s, the second without a power reading ([N/A] → null, not 0)', () => {
    const { gpus } = parse('rtx4090-x2-na-power');
    expect(gpus).toEqual([
      { index: 0, name: 'NVIDIA GeForce RTX 4090', gpuId: 'rtx-4090', vramTotalMb: 24564, vramUsedMb: 1234, utilizationPct: 97, temperatureC: 71, powerW: 412.37 },
      { index: 1, name: 'NVIDIA GeForce RTX 4090', gpuId: 'rtx-4090', vramTotalMb: 24564, vramUsedMb: 18, utilizationPct: 0, temperatureC: 36, powerW: null },
    ]);
  });

  it('reads an 8× A100-SXM4-80GB host in index order', () => {
    const { gpus } = parse('a100-sxm4-80gb-x8');
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((gpu) => gpu.gpuId))).toEqual(new Set(['a100-80gb-sxm']));
    expect(gpus[7]).toMatchObject({ vramUsedMb: 70004, utilizationPct: 84, temperatureC: 38, powerW: 69.59 });
  });

  it('turns MIG-mode [N/A] and [Not Supported] values into nulls', () => {
    const { gpus, warnings } = parse('a100-mig-enabled');
    expect(gpus[0]).toMatchObject({ gpuId: 'a100-40gb-sxm', vramTotalMb: 40960, vramUsedMb: null, utilizationPct: null, powerW: 54.18 });
    expect(gpus[1]).toMatchObject({ vramTotalMb: null, vramUsedMb: null, utilizationPct: null, temperatureC: 35, powerW: null });
    expect(warnings).toEqual([]);
  });

  it('keeps GPUs that are not in the catalog, with gpuId null and a warning (CRLF output)', () => {
    const { gpus, warnings } = parse('mixed-unknown-crlf');
    expect(gpus.map((gpu) => [gpu.name, gpu.gpuId])).toEqual([
      ['NVIDIA GeForce GTX 1080 Ti', null],
      ['NVIDIA GeForce RTX 3090', 'rtx-3090'],
    ]);
    expect(warnings).toEqual(["GPU 0: 'NVIDIA GeForce GTX 1080 Ti' is not in the GPU catalog"]);
  });

  it('skips a lost GPU line and keeps the healthy one', () => {
    const { gpus, warnings } = parse('gpu-lost');
    expect(gpus).toHaveLength(1);
    expect(warnings[0]).toMatch(/^skipped nvidia-smi line: Unable to determine the device handle/);
  });

  it('finds no GPU in "No devices were found"', () => {
    expect(parse('no-devices')).toEqual({ gpus: [], warnings: ['skipped nvidia-smi line: No devices were found'] });
  });

  it('never maps a MIG slice name onto the full GPU', () => {
    const { gpus, warnings } = parseNvidiaSmiCsv('0, NVIDIA A100-SXM4-40GB MIG 3g.20gb, 19968, 0, [N/A], 30, [N/A]\n', lookupGpu);
    expect(gpus[0]?.gpuId).toBeNull();
    expect(warnings[0]).toMatch(/MIG slice/);
  });

  it('drops out-of-range or garbled numbers, duplicate indices and nameless rows', () => {
    const out = '0, NVIDIA L4, 23034, 12, 250, abc, -5\n0, NVIDIA L4, 1, 1, 1, 1, 1\n1, [Unknown Error], 1, 1, 1, 1, 1\n';
    const { gpus, warnings } = parseNvidiaSmiCsv(out, lookupGpu);
    expect(gpus).toEqual([{ index: 0, name: 'NVIDIA L4', gpuId: 'l4', vramTotalMb: 23034, vramUsedMb: 12, utilizationPct: null, temperatureC: null, powerW: null }]);
    expect(warnings).toHaveLength(5);
  });

  it('uses the lookup function it is given', () => {
    const lookup: GpuLookupFn = (name) => ({ kind: 'known', gpu: { id: `x-${name.length}`, name, vramGb: 1, aliases: [] } });
    expect(parseNvidiaSmiCsv(fixture('t4'), lookup).gpus[0]?.gpuId).toBe('x-8');
  });
});
