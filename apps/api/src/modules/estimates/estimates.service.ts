import { usdToMicros } from '../../core/money/usd.js';
import { Inject, Injectable } from '@nestjs/common';
import { checkMemoryFit, lookupGpu, prepareJob, type EstimateError, type PreparedJob, type RecipeInput } from '@anneal/benchmarks';
import { matchesOfferQuery, type OfferQuery, type ProviderKind } from '@anneal/providers';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { AppError, badRequest, notFound, unprocessable } from '../../core/errors/app-error.js';
import { LOGGER } from '../../core/logging/logger.js';
import type { Principal } from '../auth/principal.js';
import { BenchmarkSnapshotService } from '../benchmarks/benchmark-snapshot.service.js';
import type { CreateEstimateDto } from './dto/create-estimate.dto.js';
import { EstimateOfferSource } from './estimate-offers.source.js';
import { buildEstimateTable, selectRows, tableSummary, type EstimateRow, type EstimateTable, type ExcludedGroup } from './estimate-table.js';
import { EstimatesRepository, type QuoteContentDraft } from './estimates.repository.js';
import type { Quote } from './entities/quote.entity.js';

export const DEFAULT_ROW_LIMIT = 20;
/** Cached tables are dropped oldest first beyond this many rows in all. */
const CACHE_MAX_ROWS = 100_000;
const CACHE_MAX_ENTRIES = 512;
/**
 * New quotes point at a stored content for a day at most, then at a fresh copy: the hourly prune
 * may delete a content once it is a week old and unreferenced, so one in use is never that old.
 */
export const QUOTE_CONTENT_REUSE_MS = 24 * 3600 * 1000;

export interface QuoteView {
  id: string;
  createdAt: string;
  expiresAt: string;
  expired: boolean;
  summary: string;
  steps: number;
  validationRuns: number;
  /** Offers that matched the request's filters (rows + excluded). */
  matchedOffers: number;
  /** Rows in `rows` (the cheapest `limit`, plus the fastest). */
  rows: EstimateRow[];
  excluded: ExcludedGroup[];
  notes: readonly string[];
  request: unknown;
}

/** What every quote of one cached table and row limit shares. */
interface Shown {
  content: QuoteContentDraft;
  /** The stored `request` column: the input and what it resolved to. */
  requestJson: string;
  /** The answer after the id and times, UTF-8 encoded once. */
  tail: Buffer;
}

interface CachedTable {
  snapshotVersion: number;
  offersFingerprint: string;
  table: EstimateTable;
  matchedOffers: number;
  summary: string;
  excludedJson: string;
  requestJson: string;
  tailJson: string;
  /** Per limit asked for. */
  shown: Map<number, Shown>;
}

/** The answer to POST /v1/estimates as bytes: the per-quote head (id and times), then the shared tail. */
export interface EstimateAnswer {
  head: Buffer;
  tail: Buffer;
}

interface Filters {
  query: OfferQuery;
  kinds: readonly ProviderKind[] | undefined;
}

/** Estimator input errors a request can never fix by retrying as is: 422; the rest 400. */
const UNPROCESSABLE = new Set(['unknown_gpu', 'unknown_model', 'does_not_fit_memory']);

export function estimateFailure(error: EstimateError, details?: Record<string, unknown>): AppError {
  const sentence = `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`;
  return UNPROCESSABLE.has(error.code) ? unprocessable(error.code, sentence, details) : badRequest(error.code, sentence, details);
}


function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The request as stored and cached: everything but the row limit. */
function withoutLimit(body: Readonly<CreateEstimateDto>): Omit<CreateEstimateDto, 'limit'> {
  const { limit: _limit, ...request } = body;
  return request;
}

/**
 * POST /v1/estimates: the recipe estimated on every matching offer, stored as a quote. The table
 * is cached per (request, snapshot version, offers fingerprint): a new sample or a changed offer
 * gives a fresh one; identical requests in between cost a lookup and the quote insert.
 */
@Injectable()
export class EstimatesService {
  private readonly cache = new Map<string, CachedTable>();
  /** Cache keys of the (frozen, reused) request objects EstimateRequestPipe hands out. */
  private readonly keys = new WeakMap<object, string>();
  private cachedRows = 0;

  constructor(
    private readonly snapshots: BenchmarkSnapshotService,
    private readonly offers: EstimateOfferSource,
    private readonly repository: EstimatesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Estimates, stores the quote and returns the answer as JSON bytes: the rows are serialized (and
   * stored, as the quote's content) once per cached table and limit, and reused for every quote and
   * response; each quote adds its id, times, org and requester.
   */
  async create(principal: Principal, body: Readonly<CreateEstimateDto>): Promise<EstimateAnswer> {
    const limit = body.limit ?? DEFAULT_ROW_LIMIT;
    const requestKey = this.requestKey(body);
    let listing;
    try {
      listing = await this.offers.snapshot();
    } catch (error) {
      this.logger.error({ err: error }, 'offers could not be listed for an estimate');
      throw new AppError(503, 'service_unavailable', 'Offers cannot be listed right now; try again in a moment.');
    }
    const snapshotVersion = this.snapshots.version;
    let cached = this.cache.get(requestKey);
    if (!cached || cached.snapshotVersion !== snapshotVersion || cached.offersFingerprint !== listing.fingerprint) {
      const job = this.prepare(body);
      const filters = this.filters(body, job);
      const matching = listing.offers.filter((offer) => (!filters.kinds || filters.kinds.includes(offer.providerKind)) && matchesOfferQuery(offer, filters.query));
      const table = buildEstimateTable(job, matching, this.snapshots.snapshot);
      const requestJson = JSON.stringify(withoutLimit(body));
      const summary = tableSummary(table);
      cached = {
        snapshotVersion,
        offersFingerprint: listing.fingerprint,
        table,
        matchedOffers: matching.length,
        summary,
        excludedJson: JSON.stringify(table.excluded),
        requestJson,
        // Everything after the id and times, the same for every quote of this table.
        tailJson: `,"expired":false,"summary":${JSON.stringify(summary)},"steps":${table.steps},"validationRuns":${table.validationRuns},"matchedOffers":${matching.length},"notes":${JSON.stringify(table.notes)},"request":${requestJson}`,
        shown: new Map(),
      };
      this.remember(requestKey, cached);
    }
    const now = this.clock.now();
    const shown = this.shown(cached, limit, now);
    const expiresAt = new Date(now.getTime() + this.config.QUOTE_TTL_SECONDS * 1000);
    const id = this.newId();
    this.repository.write({ id, orgId: principal.orgId, createdBy: principal.userId, requestJson: shown.requestJson, content: shown.content, createdAt: now, expiresAt });
    return { head: Buffer.from(`{"id":"${id}","createdAt":"${now.toISOString()}","expiresAt":"${expiresAt.toISOString()}"`, 'latin1'), tail: shown.tail };
  }

  /** The canonical request (without the limit), computed once per request object. */
  private requestKey(body: Readonly<CreateEstimateDto>): string {
    let key = this.keys.get(body);
    if (key === undefined) {
      key = canonical(withoutLimit(body));
      if (Object.isFrozen(body)) this.keys.set(body, key);
    }
    return key;
  }

  /** The rows for this limit, serialized once, and the content quotes point at (renewed daily). */
  private shown(cached: CachedTable, limit: number, now: Date): Shown {
    let shown = cached.shown.get(limit);
    if (!shown) {
      const table = cached.table;
      const rowsJson = JSON.stringify(selectRows(table, limit));
      shown = {
        content: { id: this.newId(), rowsJson, excludedJson: cached.excludedJson, summary: cached.summary, createdAt: now, persisted: false },
        requestJson: `{"input":${cached.requestJson},"resolved":{"steps":${table.steps},"validationRuns":${table.validationRuns},"matchedOffers":${cached.matchedOffers},"notes":${JSON.stringify(table.notes)},"limit":${limit}}}`,
        tail: Buffer.from(`${cached.tailJson},"rows":${rowsJson},"excluded":${cached.excludedJson}}`, 'utf8'),
      };
      cached.shown.set(limit, shown);
    } else if (now.getTime() - shown.content.createdAt.getTime() > QUOTE_CONTENT_REUSE_MS) {
      shown.content = { ...shown.content, id: this.newId(), createdAt: now, persisted: false };
    }
    return shown;
  }

  async get(principal: Principal, id: string): Promise<QuoteView> {
    const quote = await this.repository.findForOrg(id, principal.orgId);
    if (!quote) throw notFound('Quote');
    return this.view(quote);
  }

  private view(quote: Quote): QuoteView {
    const stored = quote.request as { input?: unknown; resolved?: { steps?: number; validationRuns?: number; matchedOffers?: number; notes?: string[] } };
    return {
      id: quote.id,
      createdAt: quote.createdAt.toISOString(),
      expiresAt: quote.expiresAt.toISOString(),
      expired: quote.expiresAt.getTime() <= this.clock.now().getTime(),
      summary: quote.summary,
      steps: stored.resolved?.steps ?? 0,
      validationRuns: stored.resolved?.validationRuns ?? 0,
      matchedOffers: stored.resolved?.matchedOffers ?? 0,
      rows: quote.rows as EstimateRow[],
      excluded: quote.excluded as ExcludedGroup[],
      notes: stored.resolved?.notes ?? [],
      request: stored.input ?? null,
    };
  }

  /** The recipe and step count, checked by the estimator; errors carry its codes. */
  private prepare(body: CreateEstimateDto): PreparedJob {
    const r = body.recipe;
    const hasData = r.datasetSamples !== undefined || r.datasetTokens !== undefined || r.epochs !== undefined;
    if (r.steps !== undefined && hasData) {
      throw badRequest('invalid_steps', 'Give either a step count or epochs with the dataset size, not both.', { fields: ['recipe.steps', 'recipe.epochs'] });
    }
    if (r.datasetSamples !== undefined && r.datasetTokens !== undefined) {
      throw badRequest('invalid_dataset', 'Give the dataset size in samples or in tokens, not both.', { fields: ['recipe.datasetSamples', 'recipe.datasetTokens'] });
    }
    if (r.steps === undefined && r.epochs !== undefined && r.datasetSamples === undefined && r.datasetTokens === undefined) {
      throw badRequest('invalid_dataset', 'Epochs need the dataset size: give datasetSamples or datasetTokens.', { fields: ['recipe.datasetSamples'] });
    }
    const recipe: RecipeInput = {
      modelId: r.baseModelId,
      method: r.method,
      precision: r.precision,
      quantization: r.quantization,
      seqLen: r.sequenceLength,
      resolution: r.imageResolution ? { width: r.imageResolution.width, height: r.imageResolution.height } : undefined,
      frames: r.frames,
      batchSize: r.batchSize,
      gradAccum: r.gradientAccumulation,
    };
    const dataset = r.datasetSamples !== undefined ? { samples: r.datasetSamples } : r.datasetTokens !== undefined ? { tokens: r.datasetTokens } : undefined;
    const prepared = prepareJob({ recipe, steps: r.steps, dataset, epochs: r.epochs });
    if (!prepared.ok) throw estimateFailure(prepared.error);
    const prompts = r.validationPrompts ?? 0;
    const runs = prompts === 0 ? 0 : r.validationInterval !== undefined ? Math.floor(prepared.value.steps / r.validationInterval) : 1;
    return { ...prepared.value, validationRuns: runs, promptsPerRun: runs === 0 ? 0 : prompts };
  }

  /** The offer filters; a named GPU the recipe cannot fit is refused here with the figures. */
  private filters(body: CreateEstimateDto, job: PreparedJob): Filters {
    const resources = body.resources ?? {};
    const count = resources.gpuCount ?? 1;
    const query: { -readonly [K in keyof OfferQuery]: OfferQuery[K] } = { minGpuCount: count };
    if (resources.gpuModel !== undefined) {
      const found = lookupGpu(resources.gpuModel);
      if (found.kind === 'unknown') throw unprocessable('unknown_gpu', `'${resources.gpuModel}' is not a GPU we know; see GET /v1/gpu-types.`, { field: 'resources.gpuModel' });
      const fit = checkMemoryFit(job.recipe, found.gpu, count);
      if (!fit.ok) {
        throw estimateFailure(fit.error, { gpu: { id: found.gpu.id, name: found.gpu.name }, gpuCount: count, needGb: Math.round(fit.needGb * 10) / 10, haveGb: fit.haveGb });
      }
      query.gpuModelIds = [found.gpu.id];
    }
    if (resources.minVramGb !== undefined) query.minVramGb = resources.minVramGb;
    if (body.maxPricePerGpuHour !== undefined && body.maxPriceMicrosPerGpuHour !== undefined) {
      throw badRequest('invalid_price', 'Give the price limit once: maxPricePerGpuHour (USD) or maxPriceMicrosPerGpuHour.', { fields: ['maxPricePerGpuHour', 'maxPriceMicrosPerGpuHour'] });
    }
    if (body.maxPricePerGpuHour !== undefined) query.maxPriceMicrosPerGpuHour = usdToMicros(body.maxPricePerGpuHour);
    if (body.maxPriceMicrosPerGpuHour !== undefined) query.maxPriceMicrosPerGpuHour = BigInt(body.maxPriceMicrosPerGpuHour);
    return { query, kinds: body.providers && body.providers.length > 0 ? body.providers : undefined };
  }

  private remember(key: string, entry: CachedTable): void {
    const previous = this.cache.get(key);
    if (previous) {
      this.cachedRows -= previous.table.rowCount;
      this.cache.delete(key);
    }
    this.cache.set(key, entry);
    this.cachedRows += entry.table.rowCount;
    for (const [oldKey, old] of this.cache) {
      if (this.cachedRows <= CACHE_MAX_ROWS && this.cache.size <= CACHE_MAX_ENTRIES) break;
      if (oldKey === key) continue;
      this.cache.delete(oldKey);
      this.cachedRows -= old.table.rowCount;
    }
  }
}

