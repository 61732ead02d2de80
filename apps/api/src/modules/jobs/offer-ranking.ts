import { lookupGpu } from '@anneal/benchmarks';
import type { Offer } from '@anneal/providers';

export interface Candidate {
  offer: Offer;
  /** Estimated runtime (p50) on this offer, seconds. */
  runtimeSeconds: number;
  /** Estimated total cost (p50) on this offer, micro-dollars. */
  costMicros: bigint;
}

export interface RankedCandidate extends Candidate {
  /** Cost adjusted for the chance of losing the machine and paying for a retry. */
  rankingCostMicros: bigint;
}

/**
 * Expected total cost with a reliability penalty: an offer that fails with probability (1 − r)
 * costs, in expectation, a retry of that share of the job; so rank by cost × (2 − r). Ties go to
 * the faster offer, then the cheaper price, then the offer id (deterministic).
 */
export function rankCandidates(candidates: readonly Candidate[]): RankedCandidate[] {
  return candidates
    .map((candidate) => {
      const reliabilityPermille = BigInt(Math.round(Math.min(1, Math.max(0, candidate.offer.reliability)) * 1000));
      return { ...candidate, rankingCostMicros: (candidate.costMicros * (2000n - reliabilityPermille)) / 1000n };
    })
    .sort((a, b) => {
      if (a.rankingCostMicros !== b.rankingCostMicros) return a.rankingCostMicros < b.rankingCostMicros ? -1 : 1;
      if (a.runtimeSeconds !== b.runtimeSeconds) return a.runtimeSeconds - b.runtimeSeconds;
      if (a.offer.priceMicrosPerGpuHour !== b.offer.priceMicrosPerGpuHour) return a.offer.priceMicrosPerGpuHour < b.offer.priceMicrosPerGpuHour ? -1 : 1;
      return a.offer.offerId.localeCompare(b.offer.offerId);
    });
}

export interface SkipReason {
  offerId: string;
  reason: string;
}

/** "3 offers skipped: GCP us-central1-a: quota exceeded; community node …: busy" */
export function describeWait(skips: readonly SkipReason[], nextTryAt: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((nextTryAt.getTime() - now.getTime()) / 1000));
  if (skips.length === 0) return `No matching offer is available right now; trying again in ${seconds} s.`;
  const shown = skips.slice(0, 5).map((s) => s.reason);
  const more = skips.length > 5 ? `; and ${skips.length - 5} more` : '';
  return `${skips.length} offer${skips.length === 1 ? '' : 's'} skipped: ${shown.join('; ')}${more}. Trying again in ${seconds} s.`;
}

/** "community node in eu-west (1× RTX 4090)", "GCP us-central1-a (8× A100 80GB SXM)". */
export function describeOffer(offer: Offer): string {
  const provider = offer.providerKind === 'gcp' ? 'GCP' : offer.providerKind === 'runpod' ? 'RunPod' : 'community node';
  const place = offer.zone ?? offer.region;
  const where = place && place !== 'unknown' ? (offer.providerKind === 'community' ? ` in ${place}` : ` ${place}`) : '';
  const gpu = lookupGpu(offer.gpuModelId);
  return `${provider}${where} (${offer.gpuCount}× ${gpu.kind === 'known' ? gpu.gpu.name : offer.gpuModelId})`;
}
