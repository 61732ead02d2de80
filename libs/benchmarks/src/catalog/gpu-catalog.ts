/**
 * The canonical GPU catalog. Every GPU name that enters the system (an `nvidia-smi` line, a GCP
 * accelerator type, a RunPod gpu type id, a column of a public benchmark table) is mapped onto one
 * of these entries through {@link lookupGpu}, or reported as an explicit unknown: nothing is mapped
 * by similarity or guessed.
 *
 * Figures are vendor datasheet figures for dense (non-sparse) tensor math with FP32 accumulate,
 * which is what mixed-precision training uses. Where a part has no native bf16 (T4, V100,
 * Quadro RTX 8000), `bf16DenseTflops` holds the fp16 tensor figure, because training on those parts
 * falls back to fp16 AMP; the catalog note says so. Memory bandwidth is in GB/s.
 */
export interface GpuModel {
  /** Stable id, e.g. 'rtx-4090', 'a100-80gb-sxm'. */
  id: string;
  /** Display name, e.g. 'RTX 4090'. */
  name: string;
  vendor: 'nvidia' | 'amd';
  vramGb: number;
  bf16DenseTflops: number;
  fp16DenseTflops: number;
  /** GB/s */
  memoryBandwidthGbps: number;
  aliases: readonly string[];
  /**
   * Effective fp32 training throughput, TFLOP/s: dense TF32 tensor math where the GPU has it,
   * else plain FP32. Used for fp32 recipes.
   */
  fp32Tflops?: number;
  /** Dense FP8 tensor TFLOP/s; absent where the GPU has no FP8 tensor cores. */
  fp8DenseTflops?: number;
  /** Dense FP4 tensor TFLOP/s; absent where the GPU has no FP4 tensor cores. */
  fp4DenseTflops?: number;
}

export type GpuLookup = { kind: 'known'; gpu: GpuModel } | { kind: 'unknown'; name: string };

/** fp32 (TF32 where available), FP8 and FP4 dense figures, from the same datasheets. */
const EXTRA_FIGURES: Record<string, Pick<GpuModel, 'fp32Tflops' | 'fp8DenseTflops' | 'fp4DenseTflops'>> = {
  t4: { fp32Tflops: 8.1 },
  l4: { fp32Tflops: 60, fp8DenseTflops: 242 },
  a10: { fp32Tflops: 62.5 },
  a10g: { fp32Tflops: 35 },
  a40: { fp32Tflops: 74.8 },
  l40s: { fp32Tflops: 183, fp8DenseTflops: 733 },
  l40: { fp32Tflops: 90.5, fp8DenseTflops: 362 },
  'rtx-a4000': { fp32Tflops: 38.4 },
  'rtx-a5000': { fp32Tflops: 55.6 },
  'rtx-4080': { fp32Tflops: 48.7, fp8DenseTflops: 195 },
  'rtx-5090': { fp32Tflops: 104.8, fp8DenseTflops: 419 },
  'rtx-3090': { fp32Tflops: 35.6 },
  'rtx-4090': { fp32Tflops: 82.6, fp8DenseTflops: 330 },
  'rtx-a6000': { fp32Tflops: 77.4 },
  'rtx-6000-ada': { fp32Tflops: 182, fp8DenseTflops: 728 },
  'quadro-rtx-8000': { fp32Tflops: 16.3 },
  'v100-16gb': { fp32Tflops: 15.7 },
  'v100-32gb': { fp32Tflops: 15.7 },
  'a100-40gb-pcie': { fp32Tflops: 156 },
  'a100-40gb-sxm': { fp32Tflops: 156 },
  'a100-80gb-pcie': { fp32Tflops: 156 },
  'a100-80gb-sxm': { fp32Tflops: 156 },
  'h100-pcie': { fp32Tflops: 378, fp8DenseTflops: 1513 },
  'h100-sxm': { fp32Tflops: 494, fp8DenseTflops: 1979 },
  'h100-nvl': { fp32Tflops: 418, fp8DenseTflops: 1670 },
  h200: { fp32Tflops: 494, fp8DenseTflops: 1979 },
  'h200-nvl': { fp32Tflops: 418, fp8DenseTflops: 1670 },
  gh200: { fp32Tflops: 494, fp8DenseTflops: 1979 },
  b200: { fp32Tflops: 1100, fp8DenseTflops: 4500, fp4DenseTflops: 9000 },
  b300: { fp32Tflops: 1100, fp8DenseTflops: 4500, fp4DenseTflops: 13500 },
  gb200: { fp32Tflops: 1250, fp8DenseTflops: 5000, fp4DenseTflops: 10000 },
  gb300: { fp32Tflops: 1250, fp8DenseTflops: 5000, fp4DenseTflops: 15000 },
  mi300x: { fp32Tflops: 653.7, fp8DenseTflops: 2614.9 },
  mi325x: { fp32Tflops: 653.7, fp8DenseTflops: 2614.9 },
  mi350x: { fp32Tflops: 144, fp8DenseTflops: 4600, fp4DenseTflops: 9200 },
  mi355x: { fp32Tflops: 157, fp8DenseTflops: 5000, fp4DenseTflops: 10000 },
};

export const GPU_CATALOG: readonly GpuModel[] = Object.freeze(
  [
    {
      id: 't4',
      name: 'T4',
      vendor: 'nvidia',
      vramGb: 16,
      // No native bf16 on Turing: fp16 AMP figure.
      bf16DenseTflops: 65,
      fp16DenseTflops: 65,
      memoryBandwidthGbps: 320,
      aliases: ['Tesla T4', 'NVIDIA T4', 'T4 16GB', 'nvidia-tesla-t4'],
    },
    {
      id: 'l4',
      name: 'L4',
      vendor: 'nvidia',
      vramGb: 24,
      bf16DenseTflops: 121,
      fp16DenseTflops: 121,
      memoryBandwidthGbps: 300,
      aliases: ['NVIDIA L4', 'L4 24GB', 'nvidia-l4'],
    },
    {
      id: 'a10',
      name: 'A10',
      vendor: 'nvidia',
      vramGb: 24,
      bf16DenseTflops: 125,
      fp16DenseTflops: 125,
      memoryBandwidthGbps: 600,
      aliases: ['NVIDIA A10', 'A10 24GB', 'A10 PCIe'],
    },
    {
      id: 'a10g',
      name: 'A10G',
      vendor: 'nvidia',
      vramGb: 24,
      // AWS part: same die as A10 at lower clocks/power.
      bf16DenseTflops: 70,
      fp16DenseTflops: 70,
      memoryBandwidthGbps: 600,
      aliases: ['NVIDIA A10G', 'A10G 24GB'],
    },
    {
      id: 'a40',
      name: 'A40',
      vendor: 'nvidia',
      vramGb: 48,
      bf16DenseTflops: 149.7,
      fp16DenseTflops: 149.7,
      memoryBandwidthGbps: 696,
      aliases: ['NVIDIA A40', 'A40 48GB'],
    },
    {
      id: 'l40s',
      name: 'L40S',
      vendor: 'nvidia',
      vramGb: 48,
      bf16DenseTflops: 362,
      fp16DenseTflops: 362,
      memoryBandwidthGbps: 864,
      aliases: ['NVIDIA L40S', 'L40S 48GB', 'nvidia-l40s'],
    },
    {
      id: 'l40',
      name: 'L40',
      vendor: 'nvidia',
      vramGb: 48,
      bf16DenseTflops: 181,
      fp16DenseTflops: 181,
      memoryBandwidthGbps: 864,
      aliases: ['NVIDIA L40', 'L40 48GB'],
    },
    {
      id: 'rtx-a4000',
      name: 'RTX A4000',
      vendor: 'nvidia',
      vramGb: 16,
      bf16DenseTflops: 76.7,
      fp16DenseTflops: 76.7,
      memoryBandwidthGbps: 448,
      aliases: ['NVIDIA RTX A4000', 'RTX A4000 16GB'],
    },
    {
      id: 'rtx-a5000',
      name: 'RTX A5000',
      vendor: 'nvidia',
      vramGb: 24,
      bf16DenseTflops: 111.1,
      fp16DenseTflops: 111.1,
      memoryBandwidthGbps: 768,
      aliases: ['NVIDIA RTX A5000', 'RTX A5000 24GB'],
    },
    {
      id: 'rtx-4080',
      name: 'RTX 4080',
      vendor: 'nvidia',
      vramGb: 16,
      bf16DenseTflops: 97.5,
      fp16DenseTflops: 97.5,
      memoryBandwidthGbps: 717,
      aliases: ['NVIDIA GeForce RTX 4080', 'GeForce RTX 4080', 'RTX 4080 16GB'],
    },
    {
      id: 'rtx-5090',
      name: 'RTX 5090',
      vendor: 'nvidia',
      vramGb: 32,
      bf16DenseTflops: 209.5,
      fp16DenseTflops: 209.5,
      memoryBandwidthGbps: 1792,
      aliases: ['NVIDIA GeForce RTX 5090', 'GeForce RTX 5090', 'RTX 5090 32GB'],
    },
    {
      id: 'rtx-3090',
      name: 'RTX 3090',
      vendor: 'nvidia',
      vramGb: 24,
      // GeForce: fp16/bf16 tensor with fp32 accumulate is half-rate.
      bf16DenseTflops: 71,
      fp16DenseTflops: 71,
      memoryBandwidthGbps: 936,
      aliases: ['NVIDIA GeForce RTX 3090', 'GeForce RTX 3090', 'RTX 3090 24GB', 'RTX3090'],
    },
    {
      id: 'rtx-4090',
      name: 'RTX 4090',
      vendor: 'nvidia',
      vramGb: 24,
      bf16DenseTflops: 165.2,
      fp16DenseTflops: 165.2,
      memoryBandwidthGbps: 1008,
      aliases: ['NVIDIA GeForce RTX 4090', 'GeForce RTX 4090', 'RTX 4090 24GB', 'RTX4090'],
    },
    {
      id: 'rtx-a6000',
      name: 'RTX A6000',
      vendor: 'nvidia',
      vramGb: 48,
      bf16DenseTflops: 154.8,
      fp16DenseTflops: 154.8,
      memoryBandwidthGbps: 768,
      aliases: ['NVIDIA RTX A6000', 'RTX A6000 48GB', 'A6000'],
    },
    {
      id: 'rtx-6000-ada',
      name: 'RTX 6000 Ada',
      vendor: 'nvidia',
      vramGb: 48,
      bf16DenseTflops: 364.2,
      fp16DenseTflops: 364.2,
      memoryBandwidthGbps: 960,
      aliases: ['NVIDIA RTX 6000 Ada Generation', 'RTX 6000 Ada Generation', 'RTX 6000 Ada 48GB'],
    },
    {
      id: 'quadro-rtx-8000',
      name: 'Quadro RTX 8000',
      vendor: 'nvidia',
      vramGb: 48,
      // No native bf16 on Turing: fp16 AMP figure.
      bf16DenseTflops: 130.5,
      fp16DenseTflops: 130.5,
      memoryBandwidthGbps: 672,
      aliases: ['NVIDIA Quadro RTX 8000', 'Quadro RTX 8000 48GB'],
    },
    {
      id: 'v100-16gb',
      name: 'V100 16GB',
      vendor: 'nvidia',
      vramGb: 16,
      // No native bf16 on Volta: fp16 AMP figure (SXM2; the PCIe card is ~10% lower).
      bf16DenseTflops: 125,
      fp16DenseTflops: 125,
      memoryBandwidthGbps: 900,
      aliases: ['Tesla V100-SXM2-16GB', 'Tesla V100-PCIE-16GB', 'V100-SXM2-16GB', 'V100 16GB SXM2', 'nvidia-tesla-v100'],
    },
    {
      id: 'v100-32gb',
      name: 'V100 32GB',
      vendor: 'nvidia',
      vramGb: 32,
      bf16DenseTflops: 125,
      fp16DenseTflops: 125,
      memoryBandwidthGbps: 900,
      aliases: ['Tesla V100-SXM2-32GB', 'Tesla V100-PCIE-32GB', 'Tesla V100S-PCIE-32GB', 'V100-SXM2-32GB', 'V100 32GB SXM2'],
    },
    {
      id: 'a100-40gb-pcie',
      name: 'A100 40GB PCIe',
      vendor: 'nvidia',
      vramGb: 40,
      bf16DenseTflops: 312,
      fp16DenseTflops: 312,
      memoryBandwidthGbps: 1555,
      aliases: ['NVIDIA A100-PCIE-40GB', 'A100-PCIE-40GB', 'A100 PCIe 40GB', 'NVIDIA A100 40GB PCIe'],
    },
    {
      id: 'a100-40gb-sxm',
      name: 'A100 40GB SXM',
      vendor: 'nvidia',
      vramGb: 40,
      bf16DenseTflops: 312,
      fp16DenseTflops: 312,
      memoryBandwidthGbps: 1555,
      // 'A100 40GB' without a form factor: the SXM4 part is the common cloud part (GCP a2, AWS p4d),
      // and its compute and bandwidth figures are identical to the PCIe card's.
      aliases: ['NVIDIA A100-SXM4-40GB', 'A100-SXM4-40GB', 'A100 40GB SXM4', 'A100 SXM4 40GB', 'A100 40GB', 'nvidia-tesla-a100'],
    },
    {
      id: 'a100-80gb-pcie',
      name: 'A100 80GB PCIe',
      vendor: 'nvidia',
      vramGb: 80,
      bf16DenseTflops: 312,
      fp16DenseTflops: 312,
      memoryBandwidthGbps: 1935,
      aliases: ['NVIDIA A100 80GB PCIe', 'NVIDIA A100-PCIE-80GB', 'A100-PCIE-80GB', 'A100 PCIe 80GB'],
    },
    {
      id: 'a100-80gb-sxm',
      name: 'A100 80GB SXM',
      vendor: 'nvidia',
      vramGb: 80,
      bf16DenseTflops: 312,
      fp16DenseTflops: 312,
      memoryBandwidthGbps: 2039,
      aliases: [
        'NVIDIA A100-SXM4-80GB',
        'A100-SXM4-80GB',
        'A100 80GB SXM4',
        'A100 SXM4 80GB',
        'A100-SXM-80GB',
        'nvidia-a100-80gb',
      ],
    },
    {
      id: 'h100-pcie',
      name: 'H100 PCIe',
      vendor: 'nvidia',
      vramGb: 80,
      bf16DenseTflops: 756,
      fp16DenseTflops: 756,
      memoryBandwidthGbps: 2000,
      aliases: ['NVIDIA H100 PCIe', 'H100 80GB PCIe', 'H100 PCIe 80GB', 'H100-PCIE-80GB'],
    },
    {
      id: 'h100-sxm',
      name: 'H100 SXM',
      vendor: 'nvidia',
      vramGb: 80,
      bf16DenseTflops: 989,
      fp16DenseTflops: 989,
      memoryBandwidthGbps: 3350,
      // 'H100 80GB' (no form factor) is how the SXM part reports itself ('NVIDIA H100 80GB HBM3');
      // the PCIe card reports 'NVIDIA H100 PCIe'.
      aliases: [
        'NVIDIA H100 80GB HBM3',
        'H100 80GB HBM3',
        'H100 SXM5',
        'H100 80GB SXM5',
        'H100-SXM-80GB',
        'H100-SXM5-80GB',
        'NVIDIA H100-SXM5-80GB',
        'NVIDIA H100-SXM-80GB',
        'H100-SXM-80GB (DGX-H100)',
        'H100 80GB',
        'nvidia-h100-80gb',
        'nvidia-h100-mega-80gb',
      ],
    },
    {
      id: 'h100-nvl',
      name: 'H100 NVL',
      vendor: 'nvidia',
      vramGb: 94,
      bf16DenseTflops: 835,
      fp16DenseTflops: 835,
      memoryBandwidthGbps: 3900,
      aliases: ['NVIDIA H100 NVL', 'H100 NVL 94GB', 'H100-NVL-94GB'],
    },
    {
      id: 'h200',
      name: 'H200',
      vendor: 'nvidia',
      vramGb: 141,
      bf16DenseTflops: 989,
      fp16DenseTflops: 989,
      memoryBandwidthGbps: 4800,
      aliases: [
        'NVIDIA H200',
        'H200 SXM',
        'H200-SXM-141GB',
        'H200-SXM5-141GB',
        'NVIDIA H200-SXM5-141GB',
        'H200 141GB',
        'NVIDIA H200 141GB HBM3e',
        'nvidia-h200-141gb',
      ],
    },
    {
      id: 'h200-nvl',
      name: 'H200 NVL',
      vendor: 'nvidia',
      vramGb: 141,
      bf16DenseTflops: 835,
      fp16DenseTflops: 835,
      memoryBandwidthGbps: 4800,
      aliases: ['NVIDIA H200 NVL', 'H200-NVL-141GB', 'NVIDIA H200-NVL-141GB'],
    },
    {
      id: 'gh200',
      name: 'GH200',
      vendor: 'nvidia',
      vramGb: 96,
      bf16DenseTflops: 989,
      fp16DenseTflops: 989,
      memoryBandwidthGbps: 4000,
      aliases: ['NVIDIA GH200 480GB', 'GH200 96GB', 'NVIDIA GH200', 'GH200 480GB'],
    },
    {
      id: 'b200',
      name: 'B200',
      vendor: 'nvidia',
      vramGb: 180,
      bf16DenseTflops: 2250,
      fp16DenseTflops: 2250,
      memoryBandwidthGbps: 8000,
      aliases: [
        'NVIDIA B200',
        'B200-SXM-180GB',
        'B200 180GB',
        'B200 192GB',
        'B200 192GB SXM5',
        'NVIDIA Blackwell GPU (B200-SXM-180GB)',
        'nvidia-b200',
      ],
    },
    {
      id: 'b300',
      name: 'B300',
      vendor: 'nvidia',
      vramGb: 270,
      bf16DenseTflops: 2250,
      fp16DenseTflops: 2250,
      memoryBandwidthGbps: 8000,
      aliases: ['NVIDIA B300', 'B300-SXM-270GB', 'B300 288GB', 'NVIDIA Blackwell Ultra GPU (B300-SXM-270GB)', 'nvidia-b300'],
    },
    {
      id: 'gb200',
      name: 'GB200',
      vendor: 'nvidia',
      vramGb: 186,
      bf16DenseTflops: 2500,
      fp16DenseTflops: 2500,
      memoryBandwidthGbps: 8000,
      aliases: ['NVIDIA GB200', 'GB200 (DGX-GB200)', 'NVIDIA Blackwell GPU (GB200)'],
    },
    {
      id: 'gb300',
      name: 'GB300',
      vendor: 'nvidia',
      vramGb: 279,
      bf16DenseTflops: 2500,
      fp16DenseTflops: 2500,
      memoryBandwidthGbps: 8000,
      aliases: ['NVIDIA GB300', 'GB300 (DGX-GB300)', 'NVIDIA Blackwell Ultra GPU (GB300)'],
    },
    {
      id: 'mi300x',
      name: 'MI300X',
      vendor: 'amd',
      vramGb: 192,
      bf16DenseTflops: 1307.4,
      fp16DenseTflops: 1307.4,
      memoryBandwidthGbps: 5300,
      aliases: ['AMD Instinct MI300X', 'AMD Instinct MI300X OAM', 'MI300X 192GB', 'AMD Instinct MI300X 192GB HBM3', 'AMD MI300X'],
    },
    {
      id: 'mi325x',
      name: 'MI325X',
      vendor: 'amd',
      vramGb: 256,
      bf16DenseTflops: 1307.4,
      fp16DenseTflops: 1307.4,
      memoryBandwidthGbps: 6000,
      aliases: [
        'AMD Instinct MI325X',
        'MI325X 256GB',
        'AMD Instinct MI325X 256GB HBM3E',
        'AMD Instinct MI325X 256GB HBM3E DLC',
        'AMD MI325X',
      ],
    },
    {
      id: 'mi350x',
      name: 'MI350X',
      vendor: 'amd',
      vramGb: 288,
      bf16DenseTflops: 2300,
      fp16DenseTflops: 2300,
      memoryBandwidthGbps: 8000,
      aliases: ['AMD Instinct MI350X', 'MI350X 288GB', 'AMD MI350X'],
    },
    {
      id: 'mi355x',
      name: 'MI355X',
      vendor: 'amd',
      vramGb: 288,
      bf16DenseTflops: 2500,
      fp16DenseTflops: 2500,
      memoryBandwidthGbps: 8000,
      aliases: ['AMD Instinct MI355X', 'MI355X 288GB', 'AMD MI355X'],
    },
  ].map((gpu) =>
    Object.freeze({ ...gpu, ...EXTRA_FIGURES[gpu.id], vendor: gpu.vendor as GpuModel['vendor'], aliases: Object.freeze([...gpu.aliases]) }),
  ),
);

/** Lower-case, and drop whitespace, '-' and '_' so 'A100-SXM4-80GB' and 'a100 sxm4 80gb' meet. */
export function normalizeGpuName(name: string): string {
  return name.toLowerCase().replace(/[\s\-_]+/g, '');
}

/**
 * Vendor words some sources put in front of a model name ('NVIDIA L4', 'AMD Instinct MI300X').
 * Stripping one of them never changes which model is meant, so it is not a guess.
 */
const VENDOR_PREFIXES = ['nvidia', 'amd'];

const INDEX: ReadonlyMap<string, GpuModel> = (() => {
  const index = new Map<string, GpuModel>();
  for (const gpu of GPU_CATALOG) {
    for (const name of [gpu.id, gpu.name, ...gpu.aliases]) {
      const key = normalizeGpuName(name);
      const existing = index.get(key);
      if (existing && existing.id !== gpu.id) {
        throw new Error(`GPU catalog: alias '${name}' is claimed by both ${existing.id} and ${gpu.id}`);
      }
      index.set(key, gpu);
    }
  }
  return index;
})();

const BY_ID: ReadonlyMap<string, GpuModel> = new Map(GPU_CATALOG.map((gpu) => [gpu.id, gpu]));

/**
 * Maps any known spelling of a GPU (id, display name or alias; case-, whitespace-, '-' and
 * '_'-insensitive, with an optional leading vendor word) onto its catalog entry. Anything else is
 * `{ kind: 'unknown' }`: never mapped by resemblance.
 */
export function lookupGpu(name: string): GpuLookup {
  const key = normalizeGpuName(name);
  if (key.length > 0) {
    const direct = INDEX.get(key);
    if (direct) return { kind: 'known', gpu: direct };
    for (const prefix of VENDOR_PREFIXES) {
      if (key.startsWith(prefix) && key.length > prefix.length) {
        const stripped = INDEX.get(key.slice(prefix.length));
        if (stripped) return { kind: 'known', gpu: stripped };
      }
    }
  }
  return { kind: 'unknown', name };
}

/** The catalog entry for an id. Throws for an unknown id: ids come from the catalog itself. */
export function getGpu(id: string): GpuModel {
  const gpu = BY_ID.get(id);
  if (!gpu) throw new Error(`unknown GPU id '${id}'`);
  return gpu;
}

/** True when the id names a catalog entry. */
export function isGpuId(id: string): boolean {
  return BY_ID.has(id);
}

/**
 * Dense tensor throughput for a training precision, TFLOP/s. A precision the GPU has no tensor
 * cores for runs at the next wider one it has (fp4 → fp8 → bf16), as frameworks fall back.
 */
export function gpuTflops(gpu: GpuModel, precision: 'fp32' | 'fp16' | 'bf16' | 'fp8' | 'fp4'): number {
  switch (precision) {
    case 'fp32':
      return gpu.fp32Tflops ?? gpu.bf16DenseTflops / 2;
    case 'fp16':
      return gpu.fp16DenseTflops;
    case 'bf16':
      return gpu.bf16DenseTflops;
    case 'fp8':
      return gpu.fp8DenseTflops ?? gpu.bf16DenseTflops;
    case 'fp4':
      return gpu.fp4DenseTflops ?? gpu.fp8DenseTflops ?? gpu.bf16DenseTflops;
  }
}
