import { z } from 'zod';
import { countSchema } from './common.schema.js';

/** Bounds of the telemetry fields (shared with the heartbeat's hand-written validator). */
export const GPU_TELEMETRY_LIMITS = {
  nameMaxLength: 200,
  gpuIdMaxLength: 64,
  utilizationPct: { min: 0, max: 100 },
  temperatureC: { min: -50, max: 200 },
  powerW: { min: 0, max: 5000 },
} as const;
const limits = GPU_TELEMETRY_LIMITS;

/**
 * One GPU as the agent sees it right now. Values `nvidia-smi` cannot report ([N/A],
 * [Not Supported], e.g. power on some boards or memory on MIG-enabled parts) are null, never 0.
 */
export const gpuTelemetrySchema = z.strictObject({
  /** nvidia-smi's index. */
  index: countSchema,
  /** The name exactly as the driver reports it, e.g. 'NVIDIA GeForce RTX 4090'. */
  name: z.string().min(1).max(limits.nameMaxLength),
  /** The catalog id (`@anneal/benchmarks` lookupGpu) or null when the name is not in the catalog. */
  gpuId: z.string().min(1).max(limits.gpuIdMaxLength).nullable(),
  vramTotalMb: countSchema.nullable(),
  vramUsedMb: countSchema.nullable(),
  utilizationPct: z.number().min(limits.utilizationPct.min).max(limits.utilizationPct.max).nullable(),
  temperatureC: z.number().min(limits.temperatureC.min).max(limits.temperatureC.max).nullable(),
  powerW: z.number().min(limits.powerW.min).max(limits.powerW.max).nullable(),
});
export type GpuTelemetry = z.infer<typeof gpuTelemetrySchema>;
