/**
 * A job estimated on many offers, as the customer sees it: one row per offer (cheapest first, the
 * fastest marked), and the offers the recipe cannot run on, grouped by hardware profile with the
 * reason ("needs ~38 GB, RTX 4090 has 24 GB"). Pure: the service caches it per (request, snapshot
 * version, offers fingerprint) and slices it per request.
 */
import {
  checkMemoryFit,
  costMicros,
  err,
  estimateError,
  estimateOffers,
  formatApproxCost,
  formatDuration,
  lookupGpu,
  type BenchmarkSnapshot,
  type EstimateError,
  type OfferEstimate,
  type PreparedJob,
  type Result,
} from '@anneal/benchmarks';
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
  /** Offers that can run the recipe. */
  rowCount: number;
  /** The row at a position in cost order (0 = cheapest); built on first use, then kept. */
  row(position: number): EstimateRow;
  /** Position (in cost order) of the fastest row, or -1 when there is none. */
  fastestPosition: number;
  excluded: ExcludedGroup[];
  notes: readonly string[];
}

const MAX_EXCLUDED_IDS = 20;
const round1 = (value: number) => Math.round(value * 10) / 10;

function gpuOf(id: string): { id: string; name: string } {
  const found = lookupGpu(id);
  return found.kind === 'unknown' ? { id, name: id } : { id: found.gpu.id, name: found.gpu.name };
}

function toRow(offer: Offer, e: OfferEstimate, fastest: boolean): EstimateRow {
  // The profile's estimate was made at a representative price: the cost is this offer's own.
  const cost = {
    p10: costMicros(e.runtimeSeconds.p10, offer.priceMicrosPerGpuHour, e.gpuCount),
    p50: costMicros(e.runtimeSeconds.p50, offer.priceMicrosPerGpuHour, e.gpuCount),
    p90: costMicros(e.runtimeSeconds.p90, offer.priceMicrosPerGpuHour, e.gpuCount),
  };
  return {
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
    runtimeSeconds: { p10: round1(e.runtimeSeconds.p10), p50: round1(e.runtimeSeconds.p50), p90: round1(e.runtimeSeconds.p90) },
    costMicros: { p10: cost.p10.toString(), p50: cost.p50.toString(), p90: cost.p90.toString() },
    basis: e.basis,
    basisText: e.basisText,
    sampleCount: e.sampleCount,
    memory: e.memory,
    sentence: `~${formatDuration(e.runtimeSeconds.p50)}, ${formatApproxCost(cost.p50)} on ${e.gpuCount}× ${e.gpu.name}, ${offer.providerKind}; ${e.basisText}`,
    fastest,
  };
}

/**
 * Estimates every offer, orders them by p50 cost (then p50 runtime, then offer id) and groups the
 * misfits. Everything but the cost depends only on the hardware profile and provider kind (as in
 * the estimator's own `estimateOffers`), so the estimator runs once per (GPU, count, kind) and each
 * offer costs one `costMicros`; rows are built only when asked for, since a request shows the
 * cheapest few of thousands.
 */
export function buildEstimateTable(job: PreparedJob, offers: readonly Offer[], snapshot: BenchmarkSnapshot): EstimateTable {
  const profiles = new Map<string, Result<OfferEstimate, EstimateError>>();
  const perOffer: Array<Result<OfferEstimate, EstimateError>> = new Array(offers.length);
  const fits: Array<{ index: number; cost: bigint; runtime: number }> = [];
  const excluded = new Map<string, ExcludedGroup>();
  for (let i = 0; i < offers.length; i += 1) {
    const offer = offers[i]!;
    const profileKey = `${offer.gpuModelId}|${offer.gpuCount}|${offer.providerKind}`;
    let result = profiles.get(profileKey);
    if (!result) {
      result = estimateOffers(job, [{ gpuId: offer.gpuModelId, gpuCount: offer.gpuCount, priceMicrosPerGpuHour: 0n, providerKind: offer.providerKind }], snapshot)[0]!;
      profiles.set(profileKey, result);
    }
    if (result.ok && offer.priceMicrosPerGpuHour < 0n) result = err(estimateError('invalid_price', `price per GPU-hour must not be negative, not ${offer.priceMicrosPerGpuHour} micro-dollars`));
    perOffer[i] = result;
    if (result.ok) {
      fits.push({ index: i, cost: costMicros(result.value.runtimeSeconds.p50, offer.priceMicrosPerGpuHour, result.value.gpuCount), runtime: result.value.runtimeSeconds.p50 });
      continue;
    }
    const id = `${offer.gpuModelId}x${offer.gpuCount}|${result.error.code}`;
    let group = excluded.get(id);
    if (!group) {
      group = { gpu: gpuOf(offer.gpuModelId), gpuCount: offer.gpuCount, code: result.error.code, message: result.error.message, offerCount: 0, offerIds: [] };
      excluded.set(id, group);
    }
    group.offerCount += 1;
    if (group.offerIds.length < MAX_EXCLUDED_IDS) group.offerIds.push(offer.offerId);
  }
  // Memory refusals carry their figures.
  for (const group of excluded.values()) {
    if (group.code !== 'does_not_fit_memory') continue;
    const gpu = lookupGpu(group.gpu.id);
    if (gpu.kind === 'unknown') continue;
    const fit = checkMemoryFit(job.recipe, gpu.gpu, group.gpuCount);
    group.needGb = round1(fit.needGb);
    group.haveGb = fit.haveGb;
  }
  fits.sort((a, b) => (a.cost !== b.cost ? (a.cost < b.cost ? -1 : 1) : a.runtime - b.runtime || (offers[a.index]!.offerId < offers[b.index]!.offerId ? -1 : 1)));
  let fastestPosition = -1;
  for (let p = 0; p < fits.length; p += 1) {
    if (fastestPosition < 0 || fits[p]!.runtime < fits[fastestPosition]!.runtime) fastestPosition = p;
  }
  const built = new Map<number, EstimateRow>();
  return {
    steps: job.steps,
    validationRuns: job.validationRuns,
    rowCount: fits.length,
    fastestPosition,
    row(position: number): EstimateRow {
      let row = built.get(position);
      if (!row) {
        const fit = fits[position];
        if (!fit) throw new RangeError(`no row at position ${position}`);
        const result = perOffer[fit.index]!;
        if (!result.ok) throw new Error('a misfit cannot be a row');
        row = toRow(offers[fit.index]!, result.value, position === fastestPosition);
        built.set(position, row);
      }
      return row;
    },
    excluded: [...excluded.values()],
    notes: job.recipe.notes,
  };
}

/** The cheapest `limit` rows, plus the fastest when it is not among them. */
export function selectRows(table: EstimateTable, limit: number): EstimateRow[] {
  const rows: EstimateRow[] = [];
  for (let p = 0; p < Math.min(limit, table.rowCount); p += 1) rows.push(table.row(p));
  if (table.fastestPosition >= limit) rows.push(table.row(table.fastestPosition));
  return rows;
}

/** One sentence for the whole answer. */
export function tableSummary(table: EstimateTable): string {
  if (table.rowCount > 0) {
    const cheapest = table.row(0);
    const fastest = table.row(table.fastestPosition);
    const others = table.rowCount - 1;
    const tail = fastest && fastest !== cheapest ? ` Fastest: ${fastest.sentence}.` : '';
    return `Cheapest: ${cheapest.sentence}${others > 0 ? ` (${others} more offer${others === 1 ? '' : 's'})` : ''}.${tail}`;
  }
  const memory = table.excluded.find((group) => group.code === 'does_not_fit_memory');
  if (memory) return `No matching offer has enough GPU memory for this recipe: ${memory.message}.`;
  if (table.excluded.length > 0) return `No matching offer can run this recipe: ${table.excluded[0]!.message}.`;
  return 'No offers match this request right now; try other GPUs, providers or a higher price limit.';
}
