/**
 * Step-time estimation with its fallback chain, in this order, each saying which it used:
 *
 *   1. exact        the key itself has runs: their mean, and an interval from their variance.
 *   2. scaled       keys of the same recipe on the same GPU model with another batch, sequence
 *                   length / resolution or GPU count, scaled by work per GPU:
 *                   t ∝ (work / count)^β · count^δ, work = batch × accum × seq len (or MP × frames).
 *   3. transferred  keys of the same recipe on other GPUs, times the relative speed of the two
 *                   GPUs learned from the workloads both have run; without any, from catalog
 *                   specs (dense TFLOP/s for the precision and memory bandwidth, geometrically
 *                   weighted). Scaled as in 2 when the batch or shape differs too.
 *   4. prior        FLOP count at a realistic utilisation: full fine-tune 6·N·tokens, LoRA 4·N
 *                   (forward 2N + activation gradients 2N, no weight gradients), QLoRA 4·N and
 *                   20% slower for dequantization; divided by GPUs × dense TFLOP/s × MFU.
 *
 * Intervals are log-normal: p50 · exp(±1.2816 σ). σ comes from the sample variance where there
 * are samples, widened by the uncertainty of each step away from them.
 */
import { gpuTflops, getGpu, isGpuId, type GpuModel } from '../catalog/gpu-catalog.js';
import { canonicalParamsB, shapeBucketString, workPerStep, type BenchmarkKey } from '../key/benchmark-key.js';
import { MODEL_REGISTRY } from '../models/model-registry.js';
import { DEFAULT_CATALOG_CALIBRATION, logSd, type BenchmarkSnapshot, type CatalogCalibration, type RelativeSpeed, type SnapshotEntry } from './snapshot.js';

export type Basis = 'exact' | 'scaled' | 'transferred' | 'prior';

export interface StepTimeEstimate {
  p10Ms: number;
  p50Ms: number;
  p90Ms: number;
  basis: Basis;
  /** "from 42 runs like this", "scaled from batch 8 on the same GPU", ... */
  basisText: string;
  /** Runs behind the estimate (0 for the prior). */
  sampleCount: number;
  /** Log-space standard deviation of the interval. */
  sigma: number;
  /** Mean validation time per prompt from the same key, when it has one. */
  validationMsPerPrompt?: number | undefined;
}

export interface EstimatorTuning {
  /** β: step time grows as (work per GPU)^β. */
  workExponent: number;
  /** δ: multi-GPU communication penalty, step time × count^δ at equal work per GPU. */
  countPenaltyExponent: number;
  /** Model FLOP utilisation of the prior, by modality and method. */
  mfu: { text: Record<'full' | 'lora' | 'qlora', number>; image: Record<'full' | 'lora' | 'qlora', number> };
  /** Extra time of QLoRA over LoRA for dequantizing the 4-bit base. */
  qloraSlowdown: number;
  sigma: {
    /** Run-to-run spread assumed for a key with one run. */
    singleRun: number;
    /** Floor under any sample-based spread. */
    floor: number;
    /** Per doubling of work per GPU when scaling. */
    perWorkDoubling: number;
    /** Per doubling of GPU count when scaling. */
    perCountDoubling: number;
    /** A learned GPU ratio from one shared key. */
    learnedSingle: number;
    /** Floor under a learned GPU ratio's spread. */
    learnedFloor: number;
    /** Floor under a catalog-spec GPU ratio's spread (the calibration's residual, when larger, is used). */
    catalogFloor: number;
    /**
     * The same floor for image/video recipes: diffusion fine-tunes are often not GPU-bound (in the
     * SimpleTuner table the H100/L40S ratio spreads with a log-sd of 0.43 across workloads and is
     * sometimes inverted), so specs say little about them.
     */
    catalogImageFloor: number;
    /** The FLOP-count prior. */
    prior: number;
  };
}

export const DEFAULT_TUNING: EstimatorTuning = Object.freeze({
  workExponent: 0.9,
  countPenaltyExponent: 0.05,
  mfu: { text: { full: 0.4, lora: 0.4, qlora: 0.4 }, image: { full: 0.25, lora: 0.25, qlora: 0.25 } },
  qloraSlowdown: 1.2,
  sigma: {
    singleRun: 0.08,
    floor: 0.03,
    perWorkDoubling: 0.08,
    perCountDoubling: 0.08,
    learnedSingle: 0.15,
    learnedFloor: 0.06,
    catalogFloor: 0.15,
    catalogImageFloor: 0.45,
    prior: 0.6,
  },
}) as EstimatorTuning;

const Z90 = 1.2815515655446004;

function interval(p50: number, sigma: number): { p10Ms: number; p50Ms: number; p90Ms: number } {
  return { p10Ms: p50 * Math.exp(-Z90 * sigma), p50Ms: p50, p90Ms: p50 * Math.exp(Z90 * sigma) };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Active parameters of a family/size (mixture-of-experts models), else the total. */
export function activeParamsB(family: string, paramsB: number): number {
  const canonical = canonicalParamsB(paramsB);
  const entry = MODEL_REGISTRY.find((m) => m.family === family && canonicalParamsB(m.paramsB) === canonical);
  return entry ? entry.activeParamsB : paramsB;
}

/** FLOPs of one optimizer step, and the method's multiplier. */
export function flopsPerStep(key: BenchmarkKey, tuning: EstimatorTuning = DEFAULT_TUNING): number {
  const n = activeParamsB(key.family, key.paramsB) * 1e9;
  let tokens: number;
  if (key.shape.kind === 'seq') tokens = key.batchSize * key.gradAccum * key.shape.seqLen;
  else {
    const latentFrames = key.shape.frames > 1 ? 1 + Math.floor((key.shape.frames - 1) / 4) : 1;
    tokens = key.batchSize * key.gradAccum * ((key.shape.megapixels * 1e6) / 256) * latentFrames;
  }
  const factor = key.method === 'full' ? 6 : key.method === 'lora' ? 4 : 4 * tuning.qloraSlowdown;
  return factor * n * tokens;
}

function countEfficiency(count: number, tuning: EstimatorTuning): number {
  return count ** -tuning.countPenaltyExponent;
}

/** The FLOP-count prior's step time in ms, and the utilisation it assumed. */
export function priorStepTimeMs(key: BenchmarkKey, gpu: GpuModel, tuning: EstimatorTuning = DEFAULT_TUNING): { ms: number; mfu: number } {
  const modality = key.shape.kind === 'seq' ? 'text' : 'image';
  const mfu = tuning.mfu[modality][key.method];
  const flops = flopsPerStep(key, tuning);
  const throughput = gpuTflops(gpu, key.precision) * 1e12 * mfu * key.gpuCount * countEfficiency(key.gpuCount, tuning);
  return { ms: (flops / throughput) * 1000, mfu };
}

/** log(step time of `to` / step time of `from`) on the same GPU model, from work and count. */
export function scaleLog(from: { work: number; count: number }, to: { work: number; count: number }, tuning: EstimatorTuning = DEFAULT_TUNING): number {
  const perGpu = Math.log(to.work / to.count) - Math.log(from.work / from.count);
  return tuning.workExponent * perGpu + tuning.countPenaltyExponent * Math.log(to.count / from.count);
}

function scaleSigma(from: { work: number; count: number }, to: { work: number; count: number }, tuning: EstimatorTuning): number {
  const workDoublings = Math.abs(Math.log2(to.work / to.count) - Math.log2(from.work / from.count));
  const countDoublings = Math.abs(Math.log2(to.count / from.count));
  return Math.hypot(tuning.sigma.perWorkDoubling * workDoublings, tuning.sigma.perCountDoubling * countDoublings);
}

/** Log-space spread of a source aggregate's median as a stand-in for a new run. */
function sourceSigma(entry: SnapshotEntry, tuning: EstimatorTuning): number {
  const n = entry.aggregate.logStepTimeMs.count;
  const sd = logSd(entry.aggregate) ?? tuning.sigma.singleRun;
  return Math.max(tuning.sigma.floor, Math.sqrt(sd * sd * (1 + 1 / n)));
}

/** Catalog-spec speed: log(time on target / time on source), weighted by a calibration. */
export function catalogSpeedLog(
  target: GpuModel,
  source: GpuModel,
  key: Pick<BenchmarkKey, 'precision'>,
  calibration: Pick<CatalogCalibration, 'computeWeight' | 'bandwidthWeight'> = DEFAULT_CATALOG_CALIBRATION,
): number {
  const compute = Math.log(gpuTflops(source, key.precision) / gpuTflops(target, key.precision));
  const bandwidth = Math.log(source.memoryBandwidthGbps / target.memoryBandwidthGbps);
  return calibration.computeWeight * compute + calibration.bandwidthWeight * bandwidth;
}

/** How a source key differs from the target, in words: "batch 8", "sequence 4096", "1 GPU". */
export function describeDifference(source: BenchmarkKey, target: BenchmarkKey): string {
  const parts: string[] = [];
  if (source.batchSize !== target.batchSize || source.gradAccum !== target.gradAccum) {
    parts.push(source.gradAccum === 1 && target.gradAccum === 1 ? `batch ${source.batchSize}` : `batch ${source.batchSize} × accumulation ${source.gradAccum}`);
  }
  if (shapeBucketString(source.shape) !== shapeBucketString(target.shape)) {
    if (source.shape.kind === 'seq') parts.push(`sequence length ${source.shape.seqLen}`);
    else parts.push(`${source.shape.megapixels.toFixed(1)} MP${source.shape.frames > 1 ? ` × ${source.shape.frames} frames` : ''}`);
  }
  if (source.gpuCount !== target.gpuCount) parts.push(plural(source.gpuCount, 'GPU'));
  return parts.join(', ');
}

interface Candidate {
  entry: SnapshotEntry;
  mu: number;
  sigma: number;
  speed?: RelativeSpeed | 'catalog' | undefined;
}

function combine(candidates: Candidate[]): { mu: number; sigma: number; best: Candidate; used: Candidate[] } {
  let weightSum = 0;
  let muSum = 0;
  let best = candidates[0]!;
  for (const c of candidates) {
    const w = 1 / (c.sigma * c.sigma);
    weightSum += w;
    muSum += w * c.mu;
    if (c.sigma < best.sigma) best = c;
  }
  // The candidates' errors are correlated (they share the scaling model), so the combined spread
  // is not shrunk below the best single candidate's.
  return { mu: muSum / weightSum, sigma: best.sigma, best, used: candidates };
}

function sampleCountOf(candidates: Candidate[]): number {
  return candidates.reduce((n, c) => n + c.entry.aggregate.stepTimeMs.count, 0);
}

const MAX_CANDIDATES = 4;

function nearest(candidates: Candidate[]): Candidate[] {
  return candidates.sort((a, b) => a.sigma - b.sigma).slice(0, MAX_CANDIDATES);
}

/**
 * Estimates one optimizer step's time for a key. The key's GPU must be a catalog id (throws
 * otherwise: callers resolve GPUs first).
 */
export function estimateStepTime(key: BenchmarkKey, snapshot: BenchmarkSnapshot, tuning: EstimatorTuning = DEFAULT_TUNING): StepTimeEstimate {
  const target = getGpu(key.gpuId);
  const targetWork = { work: workPerStep(key), count: key.gpuCount };

  // 1. exact
  const exact = snapshot.get(key);
  if (exact && exact.logStepTimeMs.count > 0) {
    const n = exact.logStepTimeMs.count;
    const sd = logSd(exact) ?? tuning.sigma.singleRun;
    const sigma = Math.sqrt(sd * sd * (1 + 1 / n) + tuning.sigma.floor * tuning.sigma.floor);
    const validation = exact.validationMsPerPrompt.count > 0 ? exact.validationMsPerPrompt.mean : undefined;
    return { ...interval(Math.exp(exact.logStepTimeMs.mean), sigma), basis: 'exact', basisText: `from ${plural(n, 'run')} like this`, sampleCount: n, sigma, validationMsPerPrompt: validation };
  }

  // 2. scaled from the same GPU model
  const scaled: Candidate[] = [];
  for (const entry of snapshot.sameGpuNeighbours(key)) {
    const m = entry.aggregate.logStepTimeMs;
    if (m.count === 0) continue;
    const from = { work: entry.work, count: entry.key.gpuCount };
    const mu = m.mean + scaleLog(from, targetWork, tuning);
    const sigma = Math.hypot(sourceSigma(entry, tuning), scaleSigma(from, targetWork, tuning));
    scaled.push({ entry, mu, sigma });
  }
  if (scaled.length > 0) {
    const { mu, sigma, best, used } = combine(nearest(scaled));
    const more = used.length > 1 ? ` (and ${plural(used.length - 1, 'other key')})` : '';
    const where = best.entry.key.gpuCount !== key.gpuCount ? 'the same GPU model' : 'the same GPU';
    return {
      ...interval(Math.exp(mu), sigma),
      basis: 'scaled',
      basisText: `scaled from ${describeDifference(best.entry.key, key)} on ${where}${more}`,
      sampleCount: sampleCountOf(used),
      sigma,
    };
  }

  // 3. transferred from other GPUs
  const transferred: Candidate[] = [];
  let calibration: CatalogCalibration | undefined;
  for (const [gpuId, entries] of snapshot.recipeGroupByGpu(key)) {
    if (gpuId === key.gpuId || !isGpuId(gpuId)) continue;
    const learned = snapshot.relativeSpeed(key.gpuId, gpuId, key);
    let speedLog: number;
    let speedSigma: number;
    if (learned) {
      speedLog = learned.logRatio;
      speedSigma =
        learned.sharedKeys === 1
          ? tuning.sigma.learnedSingle
          : Math.sqrt(Math.max(learned.logSd, tuning.sigma.learnedFloor) ** 2 * (1 + 1 / learned.sharedKeys));
    } else {
      calibration ??= snapshot.catalogCalibration(key);
      speedLog = catalogSpeedLog(target, getGpu(gpuId), key, calibration);
      const floor = key.shape.kind === 'image' ? tuning.sigma.catalogImageFloor : tuning.sigma.catalogFloor;
      speedSigma = Math.max(floor, calibration.rms * (calibration.pairs > 0 ? Math.sqrt(1 + 1 / calibration.pairs) : 1));
    }
    let bestForGpu: Candidate | undefined;
    for (const entry of entries) {
      const m = entry.aggregate.logStepTimeMs;
      if (m.count === 0) continue;
      const from = { work: entry.work, count: entry.key.gpuCount };
      const mu = m.mean + scaleLog(from, targetWork, tuning) + speedLog;
      const sigma = Math.hypot(sourceSigma(entry, tuning), scaleSigma(from, targetWork, tuning), speedSigma);
      if (!bestForGpu || sigma < bestForGpu.sigma) bestForGpu = { entry, mu, sigma, speed: learned ?? 'catalog' };
    }
    if (bestForGpu) transferred.push(bestForGpu);
  }
  if (transferred.length > 0) {
    const { mu, sigma, best, used } = combine(nearest(transferred));
    const source = getGpu(best.entry.key.gpuId);
    const via = best.speed && best.speed !== 'catalog' ? `via ${plural(best.speed.sharedKeys, 'shared key')}` : 'via catalog specs (compute and memory bandwidth)';
    const difference = describeDifference(best.entry.key, key);
    const more = used.length > 1 ? ` (and ${plural(used.length - 1, 'other GPU')})` : '';
    return {
      ...interval(Math.exp(mu), sigma),
      basis: 'transferred',
      basisText: `transferred from ${source.name} ${via}${difference ? `, scaled from ${difference}` : ''}${more}`,
      sampleCount: sampleCountOf(used),
      sigma,
    };
  }

  // 4. FLOP-count prior
  const prior = priorStepTimeMs(key, target, tuning);
  const sigma = tuning.sigma.prior;
  return {
    ...interval(prior.ms, sigma),
    basis: 'prior',
    basisText: `FLOP-count prior at ${Math.round(prior.mfu * 100)}% utilisation`,
    sampleCount: 0,
    sigma,
  };
}
