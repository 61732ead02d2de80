/**
 * BenchmarkSnapshot: the in-memory index the estimator reads.
 *
 *   - aggregates by key string (exact lookups, O(1));
 *   - the keys of each recipe group on each GPU model (scaling neighbours, O(1) to find);
 *   - the keys of each recipe group by GPU (transfer sources);
 *   - per GPU pair, the relative speed learned from the workloads both have run, kept as running
 *     sums of log time-per-work ratios so a live merge updates only the pairs of one workload;
 *   - provisioning-overhead aggregates per provider kind.
 *
 * A "shared key" of a GPU pair is a workload both GPUs have run: the same recipe, GPU count,
 * shape bucket, precision and quantization; the batch may differ, so the ratio compared is of
 * step time per unit of work (tokens, or megapixel-frames, per step).
 */
import { emptyStepTimeAggregate, mergeAggregates, mergeMoments, standardDeviation, type ProvisioningAggregate, type StepTimeAggregate } from '../aggregate/aggregate.js';
import { getGpu, gpuTflops, isGpuId } from '../catalog/gpu-catalog.js';
import {
  keyToString,
  parseKeyString,
  precisionClass,
  recipeGroupString,
  sameGpuGroupString,
  speedContextString,
  speedGroupString,
  workPerStep,
  type BenchmarkKey,
} from '../key/benchmark-key.js';

export interface SnapshotEntry {
  readonly keyString: string;
  readonly key: BenchmarkKey;
  aggregate: StepTimeAggregate;
  /** Work per optimizer step (tokens or megapixel-frames). */
  readonly work: number;
}

/** Relative speed of two GPUs: log(step time on `target` / step time on `source`) for equal work. */
export interface RelativeSpeed {
  logRatio: number;
  /** Shared workloads it was learned from. */
  sharedKeys: number;
  /** Standard deviation of the per-workload log ratios (0 below two). */
  logSd: number;
  /** Which context it was learned in: 'text|half', or 'half' (any shape kind). */
  context: string;
}

/**
 * How catalog specs predict measured speed in a context, fitted on the learned pairs:
 * log(t_target / t_source) ≈ computeWeight · log(TFLOPs_source / TFLOPs_target)
 *                          + bandwidthWeight · log(BW_source / BW_target).
 * On the public tables the fit gives weights well below 1 (real steps are not all math, and not
 * all memory-bound), and a residual of ~0.15–0.2 in log space, against ~0.4 for specs taken at
 * face value.
 */
export interface CatalogCalibration {
  computeWeight: number;
  bandwidthWeight: number;
  /** Weighted root-mean-square residual of the fit (log space). */
  rms: number;
  /** GPU pairs it was fitted on (0 for the default). */
  pairs: number;
  context: string;
}

/** Used where fewer than {@link MIN_CALIBRATION_PAIRS} pairs are known (fitted on the public tables, fp16/bf16). */
export const DEFAULT_CATALOG_CALIBRATION: CatalogCalibration = Object.freeze({ computeWeight: 0.3, bandwidthWeight: 0.55, rms: 0.25, pairs: 0, context: 'default' });
export const MIN_CALIBRATION_PAIRS = 6;

const CLASS_PRECISION = { fp32: 'fp32', half: 'bf16', low: 'fp8' } as const;

interface PairStats {
  n: number;
  sum: number;
  sumSq: number;
}

interface Contribution {
  pair: string;
  d: number;
}

export interface SnapshotInput {
  stepTimes?: Iterable<{ key: string | BenchmarkKey; aggregate: StepTimeAggregate }>;
  provisioning?: Iterable<{ providerKind: string; aggregate: ProvisioningAggregate }>;
}

function normalizeKind(kind: string): string {
  return kind.trim().toLowerCase();
}

export class BenchmarkSnapshot {
  private readonly byKey = new Map<string, SnapshotEntry>();
  private readonly sameGpu = new Map<string, SnapshotEntry[]>();
  private readonly byRecipe = new Map<string, Map<string, SnapshotEntry[]>>();
  private readonly speedGroups = new Map<string, Map<string, SnapshotEntry[]>>();
  private readonly groupContributions = new Map<string, Contribution[]>();
  private readonly pairs = new Map<string, PairStats>();
  private readonly provisioningByKind = new Map<string, ProvisioningAggregate>();
  private readonly cache = new Map<string, unknown>();
  private versionCounter = 0;

  /** Builds a snapshot from aggregates (keys as strings or objects; repeated keys are merged). */
  static build(input: SnapshotInput = {}): BenchmarkSnapshot {
    const snapshot = new BenchmarkSnapshot();
    const dirty = new Set<string>();
    for (const { key, aggregate } of input.stepTimes ?? []) {
      const group = snapshot.insert(key, aggregate);
      if (group !== undefined) dirty.add(group);
    }
    for (const group of dirty) snapshot.recomputeGroup(group);
    for (const { providerKind, aggregate } of input.provisioning ?? []) snapshot.mergeProvisioning(providerKind, aggregate);
    snapshot.versionCounter = 0;
    return snapshot;
  }

  /** Bumped by every merge; estimates cached against an older version are stale. */
  get version(): number {
    return this.versionCounter;
  }

  get size(): number {
    return this.byKey.size;
  }

  get(key: string | BenchmarkKey): StepTimeAggregate | undefined {
    return this.byKey.get(typeof key === 'string' ? key : keyToString(key))?.aggregate;
  }

  entry(keyString: string): SnapshotEntry | undefined {
    return this.byKey.get(keyString);
  }

  entries(): IterableIterator<SnapshotEntry> {
    return this.byKey.values();
  }

  /**
   * Live update: merges an aggregate into a key (creating it), and updates the relative speeds of
   * that key's workload only. Returns false (and changes nothing) for a malformed key string.
   */
  merge(key: string | BenchmarkKey, aggregate: StepTimeAggregate): boolean {
    const group = this.insert(key, aggregate);
    if (group === undefined) return false;
    this.recomputeGroup(group);
    this.touch();
    return true;
  }

  mergeProvisioning(providerKind: string, aggregate: ProvisioningAggregate): void {
    const kind = normalizeKind(providerKind);
    const existing = this.provisioningByKind.get(kind);
    this.provisioningByKind.set(kind, existing ? mergeMoments(existing, aggregate) : { ...aggregate });
    this.touch();
  }

  provisioning(providerKind: string): ProvisioningAggregate | undefined {
    return this.provisioningByKind.get(normalizeKind(providerKind));
  }

  provisioningKinds(): string[] {
    return [...this.provisioningByKind.keys()];
  }

  /** Other keys of the same recipe group on the same GPU model (any count). */
  sameGpuNeighbours(key: BenchmarkKey): readonly SnapshotEntry[] {
    return this.sameGpu.get(sameGpuGroupString(key)) ?? [];
  }

  /** Keys of the same recipe group, by GPU model. */
  recipeGroupByGpu(key: BenchmarkKey): ReadonlyMap<string, readonly SnapshotEntry[]> {
    return this.byRecipe.get(recipeGroupString(key)) ?? new Map();
  }

  /**
   * The learned relative speed of `target` against `source` for a key's context: first from
   * workloads of the same shape kind and precision class, then of the same precision class.
   */
  relativeSpeed(targetGpuId: string, sourceGpuId: string, context: Pick<BenchmarkKey, 'shape' | 'precision'>): RelativeSpeed | undefined {
    if (targetGpuId === sourceGpuId) return { logRatio: 0, sharedKeys: 0, logSd: 0, context: 'same GPU' };
    for (const ctx of [speedContextString(context), precisionClass(context.precision)]) {
      const found = this.pairStats(targetGpuId, sourceGpuId, ctx);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * The catalog-spec calibration for a key's context (shape kind and precision class), else its
   * precision class, else the default.
   */
  catalogCalibration(context: Pick<BenchmarkKey, 'shape' | 'precision'>): CatalogCalibration {
    const cls = precisionClass(context.precision);
    for (const ctx of [speedContextString(context), cls]) {
      const fit = this.memo(`calibration|${ctx}`, () => this.fitCalibration(ctx, CLASS_PRECISION[cls]));
      if (fit) return fit;
    }
    return DEFAULT_CATALOG_CALIBRATION;
  }

  private fitCalibration(ctx: string, precision: 'fp32' | 'bf16' | 'fp8'): CatalogCalibration | undefined {
    const rows: Array<[l: number, c: number, bw: number, w: number]> = [];
    for (const [pair, stats] of this.pairs) {
      const [a, b, ...rest] = pair.split('|');
      if (rest.join('|') !== ctx || stats.n === 0 || !isGpuId(a!) || !isGpuId(b!)) continue;
      const ga = getGpu(a!);
      const gb = getGpu(b!);
      rows.push([stats.sum / stats.n, Math.log(gpuTflops(gb, precision) / gpuTflops(ga, precision)), Math.log(gb.memoryBandwidthGbps / ga.memoryBandwidthGbps), Math.min(stats.n, 4)]);
    }
    if (rows.length < MIN_CALIBRATION_PAIRS) return undefined;
    let scc = 0, scb = 0, sbb = 0, slc = 0, slb = 0, wsum = 0;
    for (const [l, c, bw, w] of rows) {
      scc += w * c * c;
      scb += w * c * bw;
      sbb += w * bw * bw;
      slc += w * l * c;
      slb += w * l * bw;
      wsum += w;
    }
    const det = scc * sbb - scb * scb;
    if (!(Math.abs(det) > 1e-9)) return undefined;
    const computeWeight = (slc * sbb - slb * scb) / det;
    const bandwidthWeight = (scc * slb - scb * slc) / det;
    if (computeWeight < 0 || bandwidthWeight < 0) return undefined;
    let sse = 0;
    for (const [l, c, bw, w] of rows) sse += w * (l - computeWeight * c - bandwidthWeight * bw) ** 2;
    return { computeWeight, bandwidthWeight, rms: Math.sqrt(sse / wsum), pairs: rows.length, context: ctx };
  }

  /** All learned pairs in one context, for reports. */
  learnedPairs(): Array<{ a: string; b: string; context: string } & RelativeSpeed> {
    const out: Array<{ a: string; b: string; context: string } & RelativeSpeed> = [];
    for (const [pair, stats] of this.pairs) {
      const [a, b, ...ctx] = pair.split('|');
      const context = ctx.join('|');
      const speed = this.pairStats(a!, b!, context);
      if (speed && stats.n > 0) out.push({ a: a!, b: b!, ...speed });
    }
    return out;
  }

  /** A small memo for derived values, dropped on every merge. */
  memo<T>(key: string, compute: () => T): T {
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const value = compute();
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(key, value);
    return value;
  }

  private touch(): void {
    this.versionCounter += 1;
    this.cache.clear();
  }

  private pairStats(target: string, source: string, ctx: string): RelativeSpeed | undefined {
    const [a, b, sign] = target < source ? [target, source, 1] : [source, target, -1];
    const stats = this.pairs.get(`${a}|${b}|${ctx}`);
    if (!stats || stats.n === 0) return undefined;
    const mean = stats.sum / stats.n;
    const varianceValue = stats.n > 1 ? Math.max(0, (stats.sumSq - stats.n * mean * mean) / (stats.n - 1)) : 0;
    return { logRatio: sign * mean, sharedKeys: stats.n, logSd: Math.sqrt(varianceValue), context: ctx };
  }

  /** Adds or merges one entry; returns its speed group, or undefined for a malformed key. */
  private insert(key: string | BenchmarkKey, aggregate: StepTimeAggregate): string | undefined {
    const parsed = typeof key === 'string' ? parseKeyString(key) : key;
    if (!parsed) return undefined;
    const keyString = keyToString(parsed);
    const existing = this.byKey.get(keyString);
    if (existing) {
      existing.aggregate = mergeAggregates(existing.aggregate, aggregate);
      return speedGroupString(existing.key);
    }
    const entry: SnapshotEntry = { keyString, key: parsed, aggregate: mergeAggregates(emptyStepTimeAggregate(), aggregate), work: workPerStep(parsed) };
    this.byKey.set(keyString, entry);
    push(this.sameGpu, sameGpuGroupString(parsed), entry);
    pushNested(this.byRecipe, recipeGroupString(parsed), parsed.gpuId, entry);
    const group = speedGroupString(parsed);
    pushNested(this.speedGroups, group, parsed.gpuId, entry);
    return group;
  }

  /** Replaces one workload's contributions to the pair statistics. */
  private recomputeGroup(group: string): void {
    for (const { pair, d } of this.groupContributions.get(group) ?? []) {
      const stats = this.pairs.get(pair);
      if (stats) {
        stats.n -= 1;
        stats.sum -= d;
        stats.sumSq -= d * d;
        if (stats.n <= 0) this.pairs.delete(pair);
      }
    }
    const byGpu = this.speedGroups.get(group);
    const contributions: Contribution[] = [];
    if (byGpu && byGpu.size > 1) {
      const perGpu: Array<[string, number]> = [];
      let sample: BenchmarkKey | undefined;
      for (const [gpuId, entries] of byGpu) {
        let sum = 0;
        let n = 0;
        for (const entry of entries) {
          const log = entry.aggregate.logStepTimeMs;
          if (log.count > 0) {
            sum += log.mean - Math.log(entry.work);
            n += 1;
            sample = entry.key;
          }
        }
        if (n > 0) perGpu.push([gpuId, sum / n]);
      }
      if (sample && perGpu.length > 1) {
        const contexts = [speedContextString(sample), precisionClass(sample.precision)];
        for (let i = 0; i < perGpu.length; i += 1) {
          for (let j = i + 1; j < perGpu.length; j += 1) {
            const [gi, li] = perGpu[i]!;
            const [gj, lj] = perGpu[j]!;
            const [a, b, d] = gi < gj ? [gi, gj, li - lj] : [gj, gi, lj - li];
            for (const ctx of contexts) contributions.push({ pair: `${a}|${b}|${ctx}`, d });
          }
        }
      }
    }
    for (const { pair, d } of contributions) {
      const stats = this.pairs.get(pair) ?? { n: 0, sum: 0, sumSq: 0 };
      stats.n += 1;
      stats.sum += d;
      stats.sumSq += d * d;
      this.pairs.set(pair, stats);
    }
    this.groupContributions.set(group, contributions);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function pushNested<K, L, V>(map: Map<K, Map<L, V[]>>, key: K, inner: L, value: V): void {
  let nested = map.get(key);
  if (!nested) {
    nested = new Map();
    map.set(key, nested);
  }
  push(nested, inner, value);
}

/** Standard deviation of an aggregate's log step time; undefined below two runs. */
export function logSd(aggregate: StepTimeAggregate): number | undefined {
  if (aggregate.logStepTimeMs.count < 2) return undefined;
  return standardDeviation(aggregate.logStepTimeMs);
}
