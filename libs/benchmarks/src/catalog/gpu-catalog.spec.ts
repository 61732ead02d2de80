import { describe, expect, it } from 'vitest';
import { GPU_CATALOG, getGpu, gpuTflops, isGpuId, lookupGpu } from './gpu-catalog.js';

function idOf(name: string): string | undefined {
  const found = lookupGpu(name);
  return found.kind === 'known' ? found.gpu.id : undefined;
}

describe('GPU catalog', () => {
  it('has unique ids and sane figures', () => {
    const ids = new Set(GPU_CATALOG.map((g) => g.id));
    expect(ids.size).toBe(GPU_CATALOG.length);
    for (const gpu of GPU_CATALOG) {
      expect(gpu.vramGb).toBeGreaterThan(0);
      expect(gpu.bf16DenseTflops).toBeGreaterThan(0);
      expect(gpu.fp16DenseTflops).toBeGreaterThan(0);
      expect(gpu.memoryBandwidthGbps).toBeGreaterThan(0);
      expect(idOf(gpu.id)).toBe(gpu.id);
      expect(idOf(gpu.name)).toBe(gpu.id);
      for (const alias of gpu.aliases) expect(idOf(alias)).toBe(gpu.id);
    }
  });

  it('covers the required models', () => {
    for (const id of ['t4', 'l4', 'a10', 'a10g', 'l40s', 'rtx-3090', 'rtx-4090', 'rtx-a6000', 'rtx-6000-ada', 'v100-16gb', 'a100-40gb-pcie', 'a100-40gb-sxm', 'a100-80gb-pcie', 'a100-80gb-sxm', 'h100-pcie', 'h100-sxm', 'h200', 'gh200', 'b200', 'mi300x']) {
      expect(isGpuId(id)).toBe(true);
    }
  });

  it.each([
    ['NVIDIA GeForce RTX 4090', 'rtx-4090'],
    ['NVIDIA A100-SXM4-80GB', 'a100-80gb-sxm'],
    ['Tesla T4', 't4'],
    ['NVIDIA H100 80GB HBM3', 'h100-sxm'],
    ['NVIDIA H100 PCIe', 'h100-pcie'],
    ['nvidia-tesla-t4', 't4'],
    ['nvidia-l4', 'l4'],
    ['nvidia-a100-80gb', 'a100-80gb-sxm'],
    ['nvidia-h100-80gb', 'h100-sxm'],
    ['NVIDIA A100 80GB PCIe', 'a100-80gb-pcie'],
    ['  nvidia   geforce rtx 4090 ', 'rtx-4090'],
    ['NVIDIA RTX 6000 Ada Generation', 'rtx-6000-ada'],
    ['AMD Instinct MI300X OAM', 'mi300x'],
    ['NVIDIA L40S', 'l40s'],
    ['H100-SXM-80GB (DGX-H100)', 'h100-sxm'],
    ['B200 192GB SXM5', 'b200'],
    ['GH200 96GB', 'gh200'],
    ['L40S 48GB', 'l40s'],
    ['H100 80GB', 'h100-sxm'],
    ['RTX A6000', 'rtx-a6000'],
    ['V100 16GB', 'v100-16gb'],
    ['NVIDIA L40', 'l40'],
    ['NVIDIA RTX A5000', 'rtx-a5000'],
    ['NVIDIA GeForce RTX 5090', 'rtx-5090'],
    ['NVIDIA H100 NVL', 'h100-nvl'],
    ['nvidia-h200-141gb', 'h200'],
    ['nvidia-tesla-a100', 'a100-40gb-sxm'],
    ['A100 40GB', 'a100-40gb-sxm'],
  ])('maps %s to %s', (name, id) => {
    expect(idOf(name)).toBe(id);
  });

  it.each(['', 'nvidia', 'Gaudi2', 'A100 (memory variant not stated)', 'RTX 4070', 'nvidia-tesla-p100', 'A100'])(
    'reports %j as unknown',
    (name) => {
      expect(lookupGpu(name)).toEqual({ kind: 'unknown', name });
    },
  );

  it('gives a throughput per precision, falling back to the next wider one it has', () => {
    const t4 = getGpu('t4');
    expect(gpuTflops(t4, 'fp32')).toBe(8.1);
    expect(gpuTflops(t4, 'fp8')).toBe(65);
    expect(gpuTflops(t4, 'fp4')).toBe(65);
    const h100 = getGpu('h100-sxm');
    expect(gpuTflops(h100, 'fp16')).toBe(989);
    expect(gpuTflops(h100, 'fp8')).toBe(1979);
    expect(gpuTflops(h100, 'fp4')).toBe(1979);
    expect(gpuTflops(getGpu('b200'), 'fp4')).toBe(9000);
    expect(gpuTflops({ ...t4, fp32Tflops: undefined }, 'fp32')).toBe(32.5);
    for (const gpu of GPU_CATALOG) for (const p of ['fp32', 'fp16', 'bf16', 'fp8', 'fp4'] as const) expect(gpuTflops(gpu, p)).toBeGreaterThan(0);
  });

  it('getGpu returns an entry or throws', () => {
    expect(getGpu('rtx-4090').name).toBe('RTX 4090');
    expect(() => getGpu('rtx-9999')).toThrow(/unknown GPU id/);
  });
});
