import type { ApiClient } from '../../../lib/api-client.js';

export interface Quantiles<T> {
  p10: T;
  p50: T;
  p90: T;
}

/** One offer's estimate: money as micro-dollar strings, runtimes in seconds. */
export interface EstimateRow {
  offerId: string;
  providerKind: string;
  providerName: string | null;
  gpuModelId: string;
  gpuName: string;
  gpuCount: number;
  region: string | null;
  spot: boolean;
  priceMicrosPerGpuHour: string;
  runtimeSeconds: Quantiles<number>;
  costMicros: Quantiles<string>;
  basis: string;
  basisText: string;
  sampleCount: number;
  summary: string;
  fastest: boolean;
  cheapest: boolean;
  memory: { needGb: number; haveGb: number } | null;
}

/** Offers the recipe cannot run on, with the reason (usually memory). */
export interface ExcludedOffer {
  gpuName: string;
  gpuCount: number;
  reason: string;
  needGb: number | null;
  haveGb: number | null;
}

export interface Estimate {
  quoteId: string;
  /** The API's one-line summary of the table. */
  summary: string;
  expiresAt: string | null;
  rows: EstimateRow[];
  excluded: ExcludedOffer[];
  notes: string[];
}

export interface RecipeInput {
  baseModelId: string;
  method: 'lora' | 'qlora' | 'full';
  precision?: 'bf16' | 'fp16' | 'fp32';
  quantization?: 'none' | 'int8' | 'int4' | 'nf4';
  seqLen?: number;
  resolution?: { width: number; height: number };
  batchSize: number;
  gradAccum?: number;
  steps?: number;
  epochs?: number;
  learningRate?: number;
  loraRank?: number;
}

export interface ResourcesInput {
  gpuModel?: string;
  minVramGb?: number;
  gpuCount: number;
  region?: string;
}

export interface EstimateRequest {
  recipe: RecipeInput;
  resources: ResourcesInput;
  datasetId?: string;
  providerAllowlist?: string[];
  maxPricePerGpuHourUsd?: string;
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : fallback);
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : fallback);
const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
/** A money field that may be a micro-dollar string or a `{ micros, usd }` object. */
const micros = (v: unknown): string => (typeof v === 'object' && v !== null && 'micros' in v ? str((v as { micros: unknown }).micros, '0') : str(v, '0'));

function quantiles<T>(v: unknown, read: (x: unknown) => T): Quantiles<T> {
  const q = rec(v);
  return { p10: read(q.p10), p50: read(q.p50), p90: read(q.p90) };
}

/** Reads one row of `POST /v1/estimates` defensively: money stays a string of digits throughout. */
export function toEstimateRow(raw: unknown): EstimateRow {
  const r = rec(raw);
  const gpu = rec(r.gpu);
  const offer = rec(r.offer);
  const memory = rec(r.memory);
  return {
    offerId: str(r.offerId ?? offer.offerId),
    providerKind: str(r.providerKind ?? offer.providerKind),
    providerName: r.providerName === undefined || r.providerName === null ? null : str(r.providerName),
    gpuModelId: str(r.gpuModelId ?? gpu.id ?? offer.gpuModelId),
    gpuName: str(r.gpuName ?? gpu.name ?? offer.gpuName),
    gpuCount: num(r.gpuCount ?? offer.gpuCount, 1),
    region: r.region === undefined && offer.region === undefined ? null : str(r.region ?? offer.region),
    spot: Boolean(r.spot ?? offer.spot),
    priceMicrosPerGpuHour: micros(r.priceMicrosPerGpuHour ?? r.price ?? offer.priceMicrosPerGpuHour),
    runtimeSeconds: quantiles(r.runtimeSeconds, (x) => num(x)),
    costMicros: quantiles(r.costMicros ?? r.cost, micros),
    basis: str(r.basis),
    basisText: str(r.basisText ?? r.basis),
    sampleCount: num(r.sampleCount),
    summary: str(r.summary ?? r.sentence),
    fastest: r.fastest === true,
    cheapest: r.cheapest === true,
    memory: r.memory ? { needGb: num(memory.needGb), haveGb: num(memory.haveGb) } : null,
  };
}

export function toEstimate(raw: unknown): Estimate {
  const r = rec(raw);
  const rows = Array.isArray(r.rows) ? r.rows : Array.isArray(r.estimates) ? r.estimates : [];
  const excluded = Array.isArray(r.excluded) ? r.excluded : [];
  const parsed = rows.map(toEstimateRow);
  // Mark the cheapest by p50 cost, compared exactly.
  let cheapest: EstimateRow | undefined;
  for (const row of parsed) if (!cheapest || BigInt(row.costMicros.p50 || '0') < BigInt(cheapest.costMicros.p50 || '0')) cheapest = row;
  if (cheapest && !parsed.some((row) => row.cheapest)) cheapest.cheapest = true;
  return {
    quoteId: str(r.quoteId ?? r.id),
    summary: str(r.summary),
    expiresAt: r.expiresAt ? str(r.expiresAt) : null,
    rows: parsed,
    excluded: excluded.map((e) => {
      const x = rec(e);
      const gpu = rec(x.gpu);
      return {
        gpuName: str(x.gpuName ?? gpu.name ?? x.gpuModelId),
        gpuCount: num(x.gpuCount, 1),
        reason: str(x.message ?? x.reason),
        needGb: x.needGb === undefined ? null : num(x.needGb),
        haveGb: x.haveGb === undefined ? null : num(x.haveGb),
      };
    }),
    notes: Array.isArray(r.notes) ? r.notes.map((n) => str(n)) : [],
  };
}

/** The recipe as the API names its fields (`sequenceLength`, `imageResolution`, `gradientAccumulation`). */
export function toApiRecipe(r: RecipeInput): Record<string, unknown> {
  const recipe: Record<string, unknown> = { baseModelId: r.baseModelId, method: r.method, batchSize: r.batchSize };
  if (r.precision) recipe.precision = r.precision;
  if (r.quantization) recipe.quantization = r.quantization;
  if (r.seqLen !== undefined) recipe.sequenceLength = r.seqLen;
  if (r.resolution) recipe.imageResolution = r.resolution;
  if (r.gradAccum !== undefined) recipe.gradientAccumulation = r.gradAccum;
  if (r.steps !== undefined) recipe.steps = r.steps;
  if (r.epochs !== undefined) recipe.epochs = r.epochs;
  if (r.learningRate !== undefined) recipe.learningRate = r.learningRate;
  if (r.loraRank !== undefined) recipe.loraRank = r.loraRank;
  return recipe;
}

/** The body of `POST /v1/estimates`. */
export function toEstimateBody(request: EstimateRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { recipe: toApiRecipe(request.recipe), resources: { ...request.resources } };
  if (request.providerAllowlist) body.providers = request.providerAllowlist;
  if (request.maxPricePerGpuHourUsd) body.maxPricePerGpuHour = request.maxPricePerGpuHourUsd;
  return body;
}

export async function requestEstimate(api: ApiClient, request: EstimateRequest, signal?: AbortSignal): Promise<Estimate> {
  return toEstimate(await api.request<unknown>('/v1/estimates', { method: 'POST', body: toEstimateBody(request), ...(signal ? { signal } : {}) }));
}

export interface GpuType {
  id: string;
  name: string;
  vendor: string;
  vramGb: number;
}

export const listGpuTypes = (api: ApiClient, signal?: AbortSignal) => api.get<GpuType[]>('/v1/gpu-types', signal);
