import type { GpuTelemetry } from '@anneal/providers';
import type { CommandRunner } from '../gpu/command-runner.js';
import { detectGpus } from '../gpu/gpu-detector.js';
import type { GpuLookupFn } from '../gpu/gpu-lookup.js';
import { simulatedTelemetry, type SimulatedGpuSpec } from '../gpu/simulated-gpus.js';

/** Where heartbeats get their GPU telemetry from. */
export interface GpuSource {
  readonly simulated: boolean;
  /** Telemetry right now; `busy` tells a simulated source to look loaded. */
  read(busy: boolean): Promise<GpuTelemetry[]>;
}

export function simulatedGpuSource(spec: SimulatedGpuSpec, random: () => number = Math.random): GpuSource {
  return { simulated: true, read: async (busy) => simulatedTelemetry(spec, busy, random) };
}

/**
 * nvidia-smi on every read. When a read fails (driver crash, GPU lost) the heartbeat carries the
 * GPUs that still answer, or none: the API sees the loss instead of stale numbers.
 */
export function nvidiaGpuSource(run: CommandRunner, lookup: GpuLookupFn, onWarning: (warning: string) => void = () => {}): GpuSource {
  return {
    simulated: false,
    async read() {
      const detection = await detectGpus({ run, lookup, timeoutMs: 5_000 });
      for (const warning of detection.warnings) onWarning(warning);
      if (detection.kind === 'none') {
        onWarning(detection.reason);
        return [];
      }
      return detection.gpus;
    },
  };
}
