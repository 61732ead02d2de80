import type { GpuTelemetry } from '@anneal/providers';
import { AgentError } from '../agent.errors.js';
import type { GpuLookupFn } from './gpu-lookup.js';

export interface SimulatedGpuSpec {
  count: number;
  gpuId: string;
  /** The name a driver would print, e.g. 'NVIDIA GeForce RTX 4090'. */
  reportedName: string;
  vramTotalMb: number;
  /** The spec as given, e.g. '2x RTX 4090'. */
  source: string;
}

export const MAX_SIMULATED_GPUS = 16;

/** Parses '--simulate' values: '2x RTX 4090', '2 x RTX 4090', '8xA100-SXM4-80GB', 'L4' (one GPU). */
export function parseSimulateSpec(input: string, lookup: GpuLookupFn): SimulatedGpuSpec {
  const text = input.trim();
  const match = /^(?:(\d+)\s*[x×]\s*)?(.+)$/i.exec(text);
  const countText = match?.[1];
  const nameText = match?.[2]?.trim() ?? '';
  const count = countText === undefined ? 1 : Number(countText);
  if (text === '' || nameText === '') {
    throw new AgentError('invalid_simulate', `--simulate needs a GPU count and model, e.g. --simulate "2x RTX 4090"`);
  }
  if (!Number.isInteger(count) || count < 1 || count > MAX_SIMULATED_GPUS) {
    throw new AgentError('invalid_simulate', `--simulate: the GPU count must be between 1 and ${MAX_SIMULATED_GPUS}, got '${countText ?? ''}'`);
  }
  const found = lookup(nameText);
  if (found.kind === 'unknown') {
    throw new AgentError('unknown_gpu', `--simulate: '${nameText}' is not a GPU model Anneal knows (try e.g. "RTX 4090", "A100-SXM4-80GB", "H100 80GB HBM3", "L4")`);
  }
  const reportedName = found.gpu.aliases.find((alias) => /^(NVIDIA|Tesla|AMD) /.test(alias)) ?? found.gpu.name;
  return { count, gpuId: found.gpu.id, reportedName, vramTotalMb: found.gpu.vramGb * 1024, source: text };
}

/**
 * Synthetic but plausible telemetry for a simulated host: idle GPUs sit near 0 % and ~35 °C, busy
 * ones near 95 % and ~70 °C, with small jitter from `random` (inject a seeded one in tests).
 */
export function simulatedTelemetry(spec: SimulatedGpuSpec, busy: boolean, random: () => number = Math.random): GpuTelemetry[] {
  const jitter = (spread: number): number => (random() - 0.5) * 2 * spread;
  const round1 = (value: number): number => Math.round(value * 10) / 10;
  return Array.from({ length: spec.count }, (_, index) => {
    const used = busy ? Math.round(spec.vramTotalMb * (0.7 + random() * 0.2)) : Math.round(random() * 16);
    return {
      index,
      name: spec.reportedName,
      gpuId: spec.gpuId,
      vramTotalMb: spec.vramTotalMb,
      vramUsedMb: Math.min(used, spec.vramTotalMb),
      utilizationPct: busy ? Math.min(100, Math.max(0, Math.round(95 + jitter(4)))) : Math.max(0, Math.round(1 + jitter(1))),
      temperatureC: Math.round(busy ? 70 + jitter(5) : 35 + jitter(3)),
      powerW: round1(busy ? 300 + jitter(40) : 20 + jitter(5)),
    };
  });
}
