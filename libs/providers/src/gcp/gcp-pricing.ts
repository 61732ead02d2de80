import { z } from 'zod';
import pricingData from './gcp-pricing.data.json' with { type: 'json' };

/**
 * The GCP GPU pricing catalog: which accelerator types each zone has, and their on-demand and spot
 * prices per GPU-hour in integer micro-dollars. Data lives in `gcp-pricing.data.json`
 * (source and date inside); `refresh-pricing.ts` rewrites it from the Cloud Billing Catalog API.
 */
const microsSchema = z.number().int().nonnegative();

export const gcpPricingEntrySchema = z.strictObject({
  /** GCP accelerator type ('nvidia-l4'). */
  acceleratorType: z.string().regex(/^[a-z0-9-]+$/),
  region: z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/),
  zones: z.array(z.string().regex(/^[a-z]+-[a-z]+[0-9]+-[a-z]$/)).min(1),
  onDemandMicrosPerGpuHour: microsSchema,
  /** Null when GCP sells no spot capacity of this type in the region. */
  spotMicrosPerGpuHour: microsSchema.nullable(),
});
export type GcpPricingEntry = z.infer<typeof gcpPricingEntrySchema>;

export const gcpPricingCatalogSchema = z.strictObject({
  /** Where the prices came from, in words. */
  source: z.string().min(1),
  /** When they were fetched (YYYY-MM-DD, UTC). */
  fetchedAt: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  currency: z.literal('USD'),
  entries: z.array(gcpPricingEntrySchema),
});
export type GcpPricingCatalog = z.infer<typeof gcpPricingCatalogSchema>;

/** The catalog shipped with the package, validated once at load. */
export const GCP_PRICING: GcpPricingCatalog = gcpPricingCatalogSchema.parse(pricingData);

/** A price row as the adapter uses it. */
export interface GcpZonePrice {
  acceleratorType: string;
  region: string;
  zone: string;
  onDemandMicrosPerGpuHour: bigint;
  spotMicrosPerGpuHour: bigint | null;
}

/** One row per (accelerator type, zone). */
export function zonePrices(catalog: GcpPricingCatalog): GcpZonePrice[] {
  return catalog.entries.flatMap((entry) =>
    entry.zones.map((zone) => ({
      acceleratorType: entry.acceleratorType,
      region: entry.region,
      zone,
      onDemandMicrosPerGpuHour: BigInt(entry.onDemandMicrosPerGpuHour),
      spotMicrosPerGpuHour: entry.spotMicrosPerGpuHour === null ? null : BigInt(entry.spotMicrosPerGpuHour),
    })),
  );
}

export function regionOfZone(zone: string): string {
  return zone.replace(/-[a-z]$/, '');
}

/**
 * How a GPU count of an accelerator type becomes a machine: A2/A3/G2 machine types carry their GPUs
 * ('bundled'); N1 machines get them attached as guestAccelerators ('attached').
 */
export type GcpMachineShape =
  | { kind: 'bundled'; machineType: string }
  | { kind: 'attached'; machineType: string; acceleratorType: string; acceleratorCount: number };

const BUNDLED: Record<string, Record<number, string>> = {
  'nvidia-tesla-a100': { 1: 'a2-highgpu-1g', 2: 'a2-highgpu-2g', 4: 'a2-highgpu-4g', 8: 'a2-highgpu-8g', 16: 'a2-megagpu-16g' },
  'nvidia-a100-80gb': { 1: 'a2-ultragpu-1g', 2: 'a2-ultragpu-2g', 4: 'a2-ultragpu-4g', 8: 'a2-ultragpu-8g' },
  'nvidia-h100-80gb': { 1: 'a3-highgpu-1g', 2: 'a3-highgpu-2g', 4: 'a3-highgpu-4g', 8: 'a3-highgpu-8g' },
  'nvidia-l4': { 1: 'g2-standard-8', 2: 'g2-standard-24', 4: 'g2-standard-48', 8: 'g2-standard-96' },
};

const ATTACHED: Record<string, Record<number, string>> = {
  'nvidia-tesla-t4': { 1: 'n1-standard-8', 2: 'n1-standard-16', 4: 'n1-standard-32' },
  'nvidia-tesla-v100': { 1: 'n1-standard-8', 2: 'n1-standard-16', 4: 'n1-standard-32', 8: 'n1-standard-64' },
};

/** GPU counts GCP sells for an accelerator type (empty when the type has no known machine shape). */
export function gpuCountsFor(acceleratorType: string): number[] {
  const table = BUNDLED[acceleratorType] ?? ATTACHED[acceleratorType] ?? {};
  return Object.keys(table)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The machine for a count of an accelerator type, or null when GCP has no such shape. */
export function machineShapeFor(acceleratorType: string, gpuCount: number): GcpMachineShape | null {
  const bundled = BUNDLED[acceleratorType]?.[gpuCount];
  if (bundled) return { kind: 'bundled', machineType: bundled };
  const attached = ATTACHED[acceleratorType]?.[gpuCount];
  if (attached) return { kind: 'attached', machineType: attached, acceleratorType, acceleratorCount: gpuCount };
  return null;
}
