/**
 * A job estimated on many offers, as the customer sees it: one row per offer (cheapest first, the
 * fastest marked), and the offers the recipe cannot run on, grouped by hardware profile with the
 * reason ("needs ~38 GB, RTX 4090 has 24 GB"). Pure: the service caches it per (request, snapshot
 * version, offers fingerprint) and slices it per request.
 */
import { checkMemoryFit, estimateOffers, formatApproxCost, formatDuration, lookupGpu, type BenchmarkSnapshot, type PreparedJob } from '@anneal/benchmarks';
import type { Offer } from '@anneal/providers';

export interface Quantiles<T> {
  p10: T;
  p50: T;
  p90: T;
}

export interface EstimateRow {
  offerId: string;
  providerKind: string;
  offerType: string;
  gpu: { id: string; name: string };
  gpuCount: number;
  vramGb: number;
  region: string;
  spot: boolean;
  reliability: number;
  availability: string;
  simulated: boolean;
  /** Micro-dollars, as a decimal string. */
  priceMicrosPerGpuHour: string;
  stepTimeMs: Quantiles<number>;
  runtimeSeconds: Quantiles<number>;
  /** Micro-dollars, as decimal strings. */
  costMicros: Quantiles<string>;
  basis: string;
  basisText: string;
  sampleCount: number;
  memory: { needGb: number; haveGb: number };
  /** "~38 min, ~$0.68 on 1× RTX 4090, community; from 42 runs like this". */
  sentence: string;
  fastest: boolean;
}

export interface ExcludedGroup {
  gpu: { id: string; name: string };
  gpuCount: number;
  code: string;
  /** "needs ~38 GB, RTX 4090 has 24 GB". */
  message: string;
  needGb?: number;
  haveGb?: number;
  offerCount: number;
  /** The first few offers of the group. */
  offerIds: string[];
}

export interface EstimateTable {
  steps: number;
  validationRuns: number;
  rows: EstimateRow[];
  /** Index into rows of the fastest (lowest p50 runtime), or -1. */
  fastestIndex: number;
  excluded: ExcludedGroup[];
  notes: readonly string[];
}

const MAX_EXCLUDED_IDS = 20;
const round1 = (value: number) => Math.round(value * 10) / 10;

function gpuOf(id: string): { id: string; name: string } {
  const found = lookupGpu(id);
  return found.kind === 'unknown' ? { id, name: id } : { id: found.gpu.id, name: found.gpu.name };
}

export function buildEstimateTable(job: PreparedJob, offers: readonly Offer[], snapshot: BenchmarkSnapshot): EstimateTable {
  const results = estimateOffers(
    job,
    offers.map((offer) => ({ gpuId: offer.gpuModelId, gpuCount: offer.gpuCount, priceMicrosPerGpuHour: offer.priceMicrosPerGpuHour, providerKind: offer.providerKind })),
    snapshot,
  );
  const scored: Array<{ row: EstimateRow; cost: bigint }> = [];
  const excluded = new Map<string, ExcludedGroup>();
  results.forEach((result, i) => {
    const offer = offers[i]!;
    if (!result.ok) {
      const id = `${offer.gpuModelId}x${offer.gpuCount}|${result.error.code}`;
      let group = excluded.get(id);
      if (!group) {
        group = { gpu: gpuOf(offer.gpuModelId), gpuCount: offer.gpuCount, code: result.error.code, message: result.error.message, offerCount: 0, offerIds: [] };
        excluded.set(id, group);
      }
      group.offerCount += 1;
      if (group.offerIds.length < MAX_EXCLUDED_IDS) group.offerIds.push(offer.offerId);
      return;
    }
    const e = result.value;
    const runtimeSeconds = { p10: round1(e.runtimeSeconds.p10), p50: round1(e.runtimeSeconds.p50), p90: round1(e.runtimeSeconds.p90) };
    scored.push({
      cost: e.costMicros.p50,
      row: {
        offerId: offer.offerId,
        providerKind: offer.providerKind,
        offerType: offer.offerType,
        gpu: e.gpu,
        gpuCount: e.gpuCount,
        vramGb: offer.vramGb,
        region: offer.region,
        spot: offer.spot,
        reliability: offer.reliability,
        availability: offer.availability,
        simulated: offer.simulated,
        priceMicrosPerGpuHour: offer.priceMicrosPerGpuHour.toString(),
        stepTimeMs: { p10: round1(e.stepTimeMs.p10), p50: round1(e.stepTimeMs.p50), p90: round1(e.stepTimeMs.p90) },
        runtimeSeconds,
        costMicros: { p10: e.costMicros.p10.toString(), p50: e.costMicros.p50.toString(), p90: e.costMicros.p90.toString() },
        basis: e.basis,
        basisText: e.basisText,
        sampleCount: e.sampleCount,
        memory: e.memory,
        sentence: `~${formatDuration(e.runtimeSeconds.p50)}, ${formatApproxCost(e.costMicros.p50)} on ${e.gpuCount}× ${e.gpu.name}, ${offer.providerKind}; ${e.basisText}`,
        fastest: false,
      },
    });
  });
  // Memory refusals carry their figures.
  for (const group of excluded.values()) {
    if (group.code !== 'does_not_fit_memory') continue;
    const gpu = lookupGpu(group.gpu.id);
    if (gpu.kind === 'unknown') continue;
    const fit = checkMemoryFit(job.recipe, gpu.gpu, group.gpuCount);
    group.needGb = round1(fit.needGb);
    group.haveGb = fit.haveGb;
  }
  scored.sort((a, b) => (a.cost !== b.cost ? (a.cost < b.cost ? -1 : 1) : a.row.runtimeSeconds.p50 - b.row.runtimeSeconds.p50 || (a.row.offerId < b.row.offerId ? -1 : 1)));
  const rows = scored.map((s) => s.row);
  let fastestIndex = -1;
  rows.forEach((row, i) => {
    if (fastestIndex < 0 || row.runtimeSeconds.p50 < rows[fastestIndex]!.runtimeSeconds.p50) fastestIndex = i;
  });
  if (fastestIndex >= 0) rows[fastestIndex]!.fastest = true;
  return { steps: job.steps, validationRuns: job.validationRuns, rows, fastestIndex, excluded: [...excluded.values()], notes: job.recipe.notes };
}

/** The cheapest `limit` rows, plus the fastest when it is not among them. */
export function selectRows(table: EstimateTable, limit: number): EstimateRow[] {
  const rows = table.rows.slice(0, limit);
  if (table.fastestIndex >= limit) rows.push(table.rows[table.fastestIndex]!);
  return rows;
}

/** One sentence for the whole answer. */
export function tableSummary(table: EstimateTable): string {
  const cheapest = table.rows[0];
  if (cheapest) {
    const fastest = table.rows[table.fastestIndex];
    const others = table.rows.length - 1;
    const tail = fastest && fastest !== cheapest ? ` Fastest: ${fastest.sentence}.` : '';
    return `Cheapest: ${cheapest.sentence}${others > 0 ? ` (${others} more offer${others === 1 ? '' : 's'})` : ''}.${tail}`;
  }
  const memory = table.excluded.find((group) => group.code === 'does_not_fit_memory');
  if (memory) return `No matching offer has enough GPU memory for this recipe: ${memory.message}.`;
  if (table.excluded.length > 0) return `No matching offer can run this recipe: ${table.excluded[0]!.message}.`;
  return 'No offers match this request right now; try other GPUs, providers or a higher price limit.';
}
