import { z } from 'zod';
import { countSchema } from './common.schema.js';

/**
 * One GPU as the agent sees it right now. Values `nvidia-smi` cannot report ([N/A],
 * [Not Supported], e.g. power on some boards or memory on MIG-enabled parts) are null, never 0.
 */
export const gpuTelemetrySchema = z.strictObject({
  /** nvidia-smi's index. */
  index: countSchema,
  /** The name exactly as the driver reports it, e.g. 'NVIDIA GeForce RTX 4090'. */
  name: z.string().min(1).max(200),
  /** The catalog id (`@anneal/benchmarks` lookupGpu) or null when the name is not in the catalog. */
  gpuId: z.string().min(1).max(64).nullable(),
  vramTotalMb: countSchema.nullable(),
  vramUsedMb: countSchema.nullable(),
  utilizationPct: z.number().min(0).max(100).nullable(),
  temperatureC: z.number().min(-50).max(200).nullable(),
  powerW: z.number().nonnegative().max(5000).nullable(),
});
export type GpuTelemetry = z.infer<typeof gpuTelemetrySchema>;
