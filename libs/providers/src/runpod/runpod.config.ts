import { z } from 'zod';

/** Integer micro-dollars, given as a bigint, an integer or a digit string. */
const microsSchema = z
  .union([z.bigint().nonnegative(), z.number().int().nonnegative(), z.string().regex(/^\d+$/)])
  .transform((value) => BigInt(value));

export const runpodPodGpuTypeSchema = z.strictObject({
  /** RunPod's gpu type id, e.g. 'NVIDIA GeForce RTX 4090'. */
  gpuTypeId: z.string().min(1),
  /** GPU counts offered per pod. */
  gpuCounts: z.array(z.number().int().min(1).max(16)).min(1).default([1]),
  onDemandMicrosPerGpuHour: microsSchema,
  /** Interruptible (spot) price; null: no spot offer. */
  spotMicrosPerGpuHour: microsSchema.nullable().default(null),
  /** RunPod data centers to place pods in ('EU-RO-1'); empty: anywhere. */
  dataCenterIds: z.array(z.string().min(1)).default([]),
  /** The region offers show: the single data center, or 'global'. */
  region: z.string().min(1).default('global'),
});
export type RunpodPodGpuType = z.output<typeof runpodPodGpuTypeSchema>;

export const runpodServerlessEndpointSchema = z.strictObject({
  endpointId: z.string().regex(/^[a-z0-9]{4,64}$/),
  gpuTypeId: z.string().min(1),
  gpuCount: z.number().int().min(1).max(16).default(1),
  /** The endpoint's worker price converted to per GPU-hour. */
  priceMicrosPerGpuHour: microsSchema,
  region: z.string().min(1).default('global'),
});
export type RunpodServerlessEndpoint = z.output<typeof runpodServerlessEndpointSchema>;

export const runpodProviderConfigSchema = z.strictObject({
  /** RunPod API key, plain (the API decrypts it). Never printed. */
  apiKey: z.string().min(1),
  /** REST API for pods; a local fake in tests. */
  restBaseUrl: z.url().default('https://rest.runpod.io/v1'),
  /** Serverless API (runpod-sdk's baseUrl); a local fake in tests. */
  serverlessBaseUrl: z.url().default('https://api.runpod.ai/v2'),
  /** The container image with anneal-agent as its entrypoint. */
  imageName: z.string().min(1).default('ghcr.io/anneal/node-agent:latest'),
  cloudType: z.enum(['SECURE', 'COMMUNITY']).default('SECURE'),
  containerDiskInGb: z.number().int().min(10).max(2000).default(100),
  /** GPU types sold as pods, with the prices the operator sets from RunPod's price list. */
  podGpuTypes: z.array(runpodPodGpuTypeSchema).default([]),
  serverlessEndpoints: z.array(runpodServerlessEndpointSchema).default([]),
  reliability: z
    .strictObject({ onDemand: z.number().min(0).max(1), spot: z.number().min(0).max(1) })
    .default({ onDemand: 0.97, spot: 0.7 }),
  requestTimeoutMs: z.number().int().positive().default(30_000),
});
export type RunpodProviderConfigInput = z.input<typeof runpodProviderConfigSchema>;
export type RunpodProviderConfig = z.output<typeof runpodProviderConfigSchema>;
