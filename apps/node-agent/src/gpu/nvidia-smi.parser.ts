import type { GpuTelemetry } from '@anneal/providers';
import type { GpuLookupFn } from './gpu-lookup.js';

/** The exact query the agent runs; the parser expects its columns in this order. */
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,name,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw',
  '--format=csv,noheader,nounits',
] as const;

export interface ParsedNvidiaSmi {
  gpus: GpuTelemetry[];
  /** Lines or values that could not be used, in words (for the log and `anneal-agent status`). */
  warnings: string[];
}

/** Values nvidia-smi prints instead of a number: [N/A], [Not Supported], [Unknown Error], [GPU requires reset]… */
function isUnavailable(raw: string): boolean {
  return raw === '' || raw === 'N/A' || /^\[.*\]$/.test(raw);
}

function numberOrNull(raw: string, column: string, index: number, warnings: string[], range?: [number, number]): number | null {
  if (isUnavailable(raw)) return null;
  const value = Number(raw);
  if (!Number.isFinite(value) || (range && (value < range[0] || value > range[1]))) {
    warnings.push(`GPU ${index}: ignored ${column} '${raw}'`);
    return null;
  }
  return value;
}

function integerOrNull(raw: string, column: string, index: number, warnings: string[]): number | null {
  const value = numberOrNull(raw, column, index, warnings, [0, Number.MAX_SAFE_INTEGER]);
  return value === null ? null : Math.round(value);
}

/** A MIG slice name ('NVIDIA A100-SXM4-40GB MIG 3g.20gb'): a fraction of a GPU, never the catalog GPU. */
const MIG_SLICE = /\bMIG\s+\d+g\.\d+gb\b/i;

/**
 * Parses the output of `nvidia-smi` {@link NVIDIA_SMI_ARGS} into per-GPU telemetry and maps each
 * name onto the GPU catalog with `lookup`. Unavailable values become null (never 0). Lines that are
 * not GPU rows (e.g. 'No devices were found', 'Unable to determine the device handle…') are
 * skipped with a warning. Names with a comma are kept whole (the numeric columns are read from the
 * right).
 */
export function parseNvidiaSmiCsv(stdout: string, lookup: GpuLookupFn): ParsedNvidiaSmi {
  const gpus: GpuTelemetry[] = [];
  const warnings: string[] = [];
  const seen = new Set<number>();
  for (const rawLine of stdout.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '') continue;
    const fields = line.split(',').map((field) => field.trim());
    const indexField = fields[0] ?? '';
    if (fields.length < 7 || !/^\d+$/.test(indexField)) {
      warnings.push(`skipped nvidia-smi line: ${line.slice(0, 200)}`);
      continue;
    }
    const index = Number(indexField);
    const [memoryTotal, memoryUsed, utilization, temperature, power] = fields.slice(-5) as [string, string, string, string, string];
    const name = fields.slice(1, -5).join(', ');
    if (isUnavailable(name)) {
      warnings.push(`GPU ${index}: no usable name ('${name}'), skipped`);
      continue;
    }
    if (seen.has(index)) {
      warnings.push(`GPU ${index}: listed twice, kept the first row`);
      continue;
    }
    seen.add(index);
    let gpuId: string | null = null;
    if (MIG_SLICE.test(name)) {
      warnings.push(`GPU ${index}: '${name}' is a MIG slice, not listed as a catalog GPU`);
    } else {
      const found = lookup(name);
      if (found.kind === 'known') gpuId = found.gpu.id;
      else warnings.push(`GPU ${index}: '${name}' is not in the GPU catalog`);
    }
    gpus.push({
      index,
      name,
      gpuId,
      vramTotalMb: integerOrNull(memoryTotal, 'memory.total', index, warnings),
      vramUsedMb: integerOrNull(memoryUsed, 'memory.used', index, warnings),
      utilizationPct: numberOrNull(utilization, 'utilization.gpu', index, warnings, [0, 100]),
      temperatureC: numberOrNull(temperature, 'temperature.gpu', index, warnings, [-50, 200]),
      powerW: numberOrNull(power, 'power.draw', index, warnings, [0, 5000]),
    });
  }
  gpus.sort((a, b) => a.index - b.index);
  return { gpus, warnings };
}
