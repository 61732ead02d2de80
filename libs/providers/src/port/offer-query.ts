import type { Offer, OfferQuery } from './provider.types.js';

/** True when the offer satisfies every field the query sets. */
export function matchesOfferQuery(offer: Offer, query: OfferQuery = {}): boolean {
  if (query.gpuModelIds && query.gpuModelIds.length > 0 && !query.gpuModelIds.includes(offer.gpuModelId)) return false;
  if (query.minVramGb !== undefined && offer.vramGb < query.minVramGb) return false;
  if (query.minGpuCount !== undefined && offer.gpuCount < query.minGpuCount) return false;
  if (query.spot !== undefined && offer.spot !== query.spot) return false;
  if (query.maxPriceMicrosPerGpuHour !== undefined && offer.priceMicrosPerGpuHour > query.maxPriceMicrosPerGpuHour) return false;
  if (query.regions && query.regions.length > 0 && !query.regions.includes(offer.region)) return false;
  return true;
}
