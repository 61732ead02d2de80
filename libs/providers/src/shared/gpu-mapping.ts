import { lookupGpu, type GpuModel } from '@anneal/benchmarks';
import type { ProviderKind, SkippedOffer } from '../port/provider.types.js';

export type ProviderGpuMapping = { kind: 'known'; gpu: GpuModel } | { kind: 'skipped'; skipped: SkippedOffer };

/**
 * Maps a provider's GPU name ('nvidia-l4', 'NVIDIA GeForce RTX 4090') onto the catalog. A name the
 * catalog does not know is skipped with a reason, never guessed.
 */
export function mapProviderGpu(providerKind: ProviderKind, providerGpuName: string): ProviderGpuMapping {
  const lookup = lookupGpu(providerGpuName);
  if (lookup.kind === 'known') return { kind: 'known', gpu: lookup.gpu };
  return {
    kind: 'skipped',
    skipped: { providerKind, providerGpuName, reason: `GPU '${providerGpuName}' is not in the GPU catalog` },
  };
}
