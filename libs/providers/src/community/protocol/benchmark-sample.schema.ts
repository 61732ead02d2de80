import { z } from 'zod';
import { countSchema, nonNegativeSchema, schemaVersionSchema } from './common.schema.js';

/**
 * One anonymized measurement of a finished (or long enough) attempt: the inputs of a benchmark key
 * and what was observed. It carries NO identifier: no user, org, job, attempt, node, IP or dataset
 * field exists here, and the strict schema refuses any extra field. Image resolution is reported
 * only rounded to 0.5 megapixel.
 *
 * Travels inside a `benchmark_sample` attempt event (agent → api) and, stripped of that envelope,
 * on `anneal.benchmarks.samples` (api internal).
 */
export const benchmarkSampleSchema = z.strictObject({
  schemaVersion: schemaVersionSchema,
  /**
   * A random UUID the agent draws for this sample alone (not the attempt id, not derived from any
   * id), so a redelivered sample is counted once. Optional for older agents.
   */
  sampleId: z.uuid().optional(),
  baseModelId: z.string().min(1).max(200),
  method: z.enum(['lora', 'qlora', 'full']),
  precision: z.enum(['bf16', 'fp16', 'fp32']),
  quantization: z.enum(['int8', 'int4', 'nf4']).nullable(),
  sequenceLength: z.number().int().positive().nullable(),
  /** Megapixels rounded to the nearest 0.5 (e.g. 1024×1024 → 1). */
  imageMegapixels: z.number().positive().multipleOf(0.5).nullable(),
  batchSize: z.number().int().positive(),
  gradientAccumulation: z.number().int().positive(),
  /** Catalog GPU id and count: the hardware profile. */
  gpuId: z.string().min(1).max(64),
  gpuCount: z.number().int().positive(),
  stepTimeMsMean: nonNegativeSchema,
  stepTimeMsVariance: nonNegativeSchema,
  stepsObserved: z.number().int().positive(),
  validationTimePerPromptMsMean: nonNegativeSchema.nullable(),
  validationPromptsObserved: countSchema,
  /** True when the sample comes from a simulated node: the API must not feed it into real estimates. */
  simulated: z.boolean(),
});
export type BenchmarkSample = z.infer<typeof benchmarkSampleSchema>;

/** Rounds a resolution to the nearest 0.5 megapixel (never below 0.5). */
export function roundMegapixels(width: number, height: number): number {
  return Math.max(0.5, Math.round((width * height) / 1_000_000 / 0.5) * 0.5);
}
