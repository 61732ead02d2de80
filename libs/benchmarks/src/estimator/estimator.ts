/**
 * Job estimates per offer.
 *
 *   runtime = steps × step time + validation runs × prompts × time per prompt + provisioning
 *   cost    = runtime × price per GPU-hour × GPU count / 3600, in micro-dollars, rounded up
 *
 * p10/p50/p90 of runtime add the components' own quantiles (a conservative, comonotone sum), so
 * p10 ≤ p50 ≤ p90 always, more steps never cost less, and cost grows with price.
 *
 * For speed, {@link estimateOffers} resolves the job once, then estimates the step time once per
 * hardware profile (GPU × count) and provisioning once per provider kind: per offer there is only
 * the cost arithmetic left.
 */
import { getGpu, type GpuModel } from '../catalog/gpu-catalog.js';
import { standardDeviation, type Moments } from '../aggregate/aggregate.js';
import { keyToString, type BenchmarkKey } from '../key/benchmark-key.js';
import { recipeKey, resolveGpu, resolveRecipe, validateGpuCount, type RecipeInput, type TrainingRecipe } from '../key/recipe.js';
import { checkMemoryFit } from '../memory/memory-fit.js';
import { err, estimateError, ok, type EstimateError, type Result } from '../result.js';
import { stepsFromData, validateSteps, type DatasetSize } from '../steps/steps-from-data.js';
import { costMicros, formatApproxCost, formatDuration, validatePrice } from './cost.js';
import type { BenchmarkSnapshot } from './snapshot.js';
import { DEFAULT_TUNING, catalogSpeedLog, estimateStepTime, type Basis, type EstimatorTuning, type StepTimeEstimate } from './step-time.js';

export interface Quantiles<T> {
  p10: T;
  p50: T;
  p90: T;
}

export interface JobInput {
  recipe: RecipeInput | TrainingRecipe;
  /** Either steps, or a dataset size with epochs. */
  steps?: number | undefined;
  dataset?: DatasetSize | undefined;
  epochs?: number | undefined;
  /** Validation passes over the whole run, and prompts per pass. */
  validation?: { runs: number; promptsPerRun: number } | undefined;
}

export interface Offer {
  /** Catalog id ('rtx-4090'), or any name lookupGpu knows. */
  gpuId: string;
  gpuCount: number;
  priceMicrosPerGpuHour: bigint | number;
  /** 'community', 'gcp', 'runpod', ... */
  providerKind: string;
}

export interface OfferEstimate {
  steps: number;
  gpu: { id: string; name: string };
  gpuCount: number;
  providerKind: string;
  key: string;
  stepTimeMs: Quantiles<number>;
  runtimeSeconds: Quantiles<number>;
  costMicros: Quantiles<bigint>;
  /** p50 seconds of each part of the runtime. */
  breakdownSeconds: { training: number; validation: number; provisioning: number };
  basis: Basis;
  basisText: string;
  sampleCount: number;
  memory: { needGb: number; haveGb: number };
  /** Assumptions made on the way ("assumed a 13B-parameter text model from its name"). */
  notes: readonly string[];
  /** "~38 min, ~$0.68 on 1× RTX 4090 (community)". */
  summary: string;
}

/** A job checked and resolved once, to estimate on many offers. */
export interface PreparedJob {
  recipe: TrainingRecipe;
  steps: number;
  validationRuns: number;
  promptsPerRun: number;
}

const MAX_VALIDATION = 100_000;

function isTrainingRecipe(recipe: RecipeInput | TrainingRecipe): recipe is TrainingRecipe {
  return typeof (recipe as TrainingRecipe).model === 'object' && (recipe as TrainingRecipe).model !== null;
}

/** Resolves the recipe and the step count; errors with stable codes. */
export function prepareJob(job: JobInput): Result<PreparedJob, EstimateError> {
  let recipe: TrainingRecipe;
  if (isTrainingRecipe(job.recipe)) recipe = job.recipe;
  else {
    const resolved = resolveRecipe(job.recipe);
    if (!resolved.ok) return resolved;
    recipe = resolved.value;
  }
  let steps: Result<number, EstimateError>;
  if (job.steps !== undefined) steps = validateSteps(job.steps);
  else if (job.dataset !== undefined) {
    steps = stepsFromData({
      dataset: job.dataset,
      epochs: job.epochs ?? 1,
      batchSize: recipe.batchSize,
      gradAccum: recipe.gradAccum,
      seqLen: recipe.shape.kind === 'seq' ? recipe.shape.seqLen : undefined,
    });
  } else steps = err(estimateError('invalid_steps', 'give either a step count or the dataset size with epochs'));
  if (!steps.ok) return steps;
  const validation = job.validation ?? { runs: 0, promptsPerRun: 0 };
  for (const value of [validation.runs, validation.promptsPerRun]) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_VALIDATION) {
      return err(estimateError('invalid_validation', `validation runs and prompts per run must be whole numbers from 0 to ${MAX_VALIDATION.toLocaleString('en-US')}`));
    }
  }
  return ok({ recipe, steps: steps.value, validationRuns: validation.runs, promptsPerRun: validation.promptsPerRun });
}

/** Defaults for provisioning overhead (seconds) until attempts have been measured. */
export const DEFAULT_PROVISIONING_SECONDS: Readonly<Record<string, number>> = Object.freeze({
  community: 120,
  runpod: 120,
  gcp: 300,
});
const FALLBACK_PROVISIONING_SECONDS = 180;
const PROVISIONING_PRIOR_SIGMA = 0.5;
const PROVISIONING_SINGLE_SIGMA = 0.3;

const Z90 = 1.2815515655446004;

function logNormalQuantiles(median: number, sigma: number): Quantiles<number> {
  return { p10: median * Math.exp(-Z90 * sigma), p50: median, p90: median * Math.exp(Z90 * sigma) };
}

/** Provisioning overhead quantiles (seconds) for a provider kind: learned, else a default. */
export function provisioningSeconds(snapshot: BenchmarkSnapshot, providerKind: string): Quantiles<number> & { learnedFrom: number } {
  const learned: Moments | undefined = snapshot.provisioning(providerKind);
  if (learned && learned.count > 0 && learned.mean > 0) {
    const cv = learned.count > 1 ? standardDeviation(learned) / learned.mean : undefined;
    const sigma = cv === undefined ? PROVISIONING_SINGLE_SIGMA : Math.max(0.05, Math.sqrt(Math.log(1 + cv * cv)));
    // Median of a log-normal with this mean and spread.
    const median = learned.mean / Math.exp((sigma * sigma) / 2);
    return { ...logNormalQuantiles(median, sigma), learnedFrom: learned.count };
  }
  const fallback = DEFAULT_PROVISIONING_SECONDS[providerKind.trim().toLowerCase()] ?? FALLBACK_PROVISIONING_SECONDS;
  return { ...logNormalQuantiles(fallback, PROVISIONING_PRIOR_SIGMA), learnedFrom: 0 };
}

const REFERENCE_GPU = 'a100-80gb-sxm';
const VALIDATION_PRIOR_SIGMA = 0.5;

/**
 * Default validation time per prompt (ms) when no run of this key reported one: text generates
 * 256 tokens, memory-bound (weights read once per token at 60% of bandwidth); images run 30
 * denoising steps with classifier-free guidance (4 · N FLOPs per latent token) at 40% of dense
 * compute. Rough by design; it is usually a small part of the runtime.
 */
export function defaultValidationMsPerPrompt(key: BenchmarkKey, gpu: GpuModel, activeParamsB: number): number {
  const params = activeParamsB * 1e9;
  if (key.shape.kind === 'seq') {
    const bytes = params * (key.quantization === 'nf4' || key.quantization === 'int4' ? 0.55 : 2);
    return ((256 * bytes) / (gpu.memoryBandwidthGbps * 1e9 * 0.6 * key.gpuCount)) * 1000;
  }
  const latentFrames = key.shape.frames > 1 ? 1 + Math.floor((key.shape.frames - 1) / 4) : 1;
  const tokens = ((key.shape.megapixels * 1e6) / 256) * latentFrames;
  const flops = 30 * 4 * params * tokens;
  return (flops / (gpu.bf16DenseTflops * 1e12 * 0.4 * key.gpuCount)) * 1000;
}

interface ProfileEstimate {
  key: BenchmarkKey;
  keyString: string;
  gpu: GpuModel;
  step: StepTimeEstimate;
  validationMs: Quantiles<number>;
  memory: { needGb: number; haveGb: number };
}

function estimateProfile(
  prepared: PreparedJob,
  gpu: GpuModel,
  gpuCount: number,
  snapshot: BenchmarkSnapshot,
  tuning: EstimatorTuning,
): Result<ProfileEstimate, EstimateError> {
  const fit = checkMemoryFit(prepared.recipe, gpu, gpuCount);
  if (!fit.ok) return err(fit.error);
  const key = recipeKey(prepared.recipe, gpu.id, gpuCount);
  const step = estimateStepTime(key, snapshot, tuning);
  let validationMs: Quantiles<number>;
  if (step.validationMsPerPrompt !== undefined) validationMs = logNormalQuantiles(step.validationMsPerPrompt, step.sigma);
  else {
    const median = defaultValidationMsPerPrompt(key, gpu, prepared.recipe.model.activeParamsB);
    validationMs = logNormalQuantiles(median, VALIDATION_PRIOR_SIGMA);
  }
  return ok({ key, keyString: keyToString(key), gpu, step, validationMs, memory: { needGb: fit.needGb, haveGb: fit.haveGb } });
}

/** What every offer of one hardware profile and provider kind shares. */
interface ProfileAndKind {
  profile: ProfileEstimate;
  providerKind: string;
  stepTimeMs: Quantiles<number>;
  runtimeSeconds: Quantiles<number>;
  breakdownSeconds: OfferEstimate['breakdownSeconds'];
  /** "~38 min" and " on 1× RTX 4090 (community)", around the cost. */
  summaryHead: string;
  summaryTail: string;
}

function profileAndKind(prepared: PreparedJob, profile: ProfileEstimate, provisioning: Quantiles<number>, providerKind: string): ProfileAndKind {
  const prompts = prepared.validationRuns * prepared.promptsPerRun;
  const stepTimeMs = { p10: profile.step.p10Ms, p50: profile.step.p50Ms, p90: profile.step.p90Ms };
  const runtime = (q: 'p10' | 'p50' | 'p90'): number => (prepared.steps * stepTimeMs[q] + prompts * profile.validationMs[q]) / 1000 + provisioning[q];
  const runtimeSeconds = { p10: runtime('p10'), p50: runtime('p50'), p90: runtime('p90') };
  return {
    profile,
    providerKind,
    stepTimeMs,
    runtimeSeconds,
    breakdownSeconds: {
      training: (prepared.steps * stepTimeMs.p50) / 1000,
      validation: (prompts * profile.validationMs.p50) / 1000,
      provisioning: provisioning.p50,
    },
    summaryHead: `~${formatDuration(runtimeSeconds.p50)}, `,
    summaryTail: ` on ${profile.key.gpuCount}× ${profile.gpu.name} (${providerKind})`,
  };
}

function assemble(prepared: PreparedJob, shared: ProfileAndKind, price: bigint): OfferEstimate {
  const { profile, stepTimeMs, runtimeSeconds, providerKind } = shared;
  const count = profile.key.gpuCount;
  const cost = { p10: costMicros(runtimeSeconds.p10, price, count), p50: costMicros(runtimeSeconds.p50, price, count), p90: costMicros(runtimeSeconds.p90, price, count) };
  return {
    steps: prepared.steps,
    gpu: { id: profile.gpu.id, name: profile.gpu.name },
    gpuCount: count,
    providerKind,
    key: profile.keyString,
    stepTimeMs,
    runtimeSeconds,
    costMicros: cost,
    breakdownSeconds: shared.breakdownSeconds,
    basis: profile.step.basis,
    basisText: profile.step.basisText,
    sampleCount: profile.step.sampleCount,
    memory: profile.memory,
    notes: prepared.recipe.notes,
    summary: `${shared.summaryHead}${formatApproxCost(cost.p50)}${shared.summaryTail}`,
  };
}

/** Estimates one job on one offer. */
export function estimateOffer(job: JobInput | PreparedJob, offer: Offer, snapshot: BenchmarkSnapshot, tuning: EstimatorTuning = DEFAULT_TUNING): Result<OfferEstimate, EstimateError> {
  return estimateOffers(job, [offer], snapshot, tuning)[0]!;
}

function isPreparedJob(job: JobInput | PreparedJob): job is PreparedJob {
  return typeof (job as PreparedJob).steps === 'number' && typeof (job as PreparedJob).validationRuns === 'number' && isTrainingRecipe(job.recipe);
}

/**
 * Estimates one job on many offers; results in the offers' order. A job error (unknown model,
 * invalid steps) is returned for every offer; offer errors (unknown GPU, invalid count or price,
 * does not fit memory) for that offer only.
 */
export function estimateOffers(
  job: JobInput | PreparedJob,
  offers: readonly Offer[],
  snapshot: BenchmarkSnapshot,
  tuning: EstimatorTuning = DEFAULT_TUNING,
): Array<Result<OfferEstimate, EstimateError>> {
  const prepared = isPreparedJob(job) ? ok(job) : prepareJob(job);
  if (!prepared.ok) return offers.map(() => prepared);
  const profiles = new Map<string, Result<ProfileEstimate, EstimateError>>();
  const provisioning = new Map<string, Quantiles<number>>();
  const gpus = new Map<string, Result<GpuModel, EstimateError>>();
  const perKind = new Map<string, ProfileAndKind>();
  return offers.map((offer) => {
    let gpu = gpus.get(offer.gpuId);
    if (!gpu) {
      gpu = resolveGpu(offer.gpuId);
      gpus.set(offer.gpuId, gpu);
    }
    if (!gpu.ok) return gpu;
    const count = validateGpuCount(offer.gpuCount);
    if (!count.ok) return count;
    const price = validatePrice(offer.priceMicrosPerGpuHour);
    if (!price.ok) return price;
    const profileKey = `${gpu.value.id}x${count.value}`;
    let profile = profiles.get(profileKey);
    if (!profile) {
      profile = estimateProfile(prepared.value, gpu.value, count.value, snapshot, tuning);
      profiles.set(profileKey, profile);
    }
    if (!profile.ok) return profile;
    let overhead = provisioning.get(offer.providerKind);
    if (!overhead) {
      overhead = provisioningSeconds(snapshot, offer.providerKind);
      provisioning.set(offer.providerKind, overhead);
    }
    const sharedKey = `${profileKey}|${offer.providerKind}`;
    let shared = perKind.get(sharedKey);
    if (!shared) {
      shared = profileAndKind(prepared.value, profile.value, overhead, offer.providerKind);
      perKind.set(sharedKey, shared);
    }
    return ok(assemble(prepared.value, shared, price.value));
  });
}

/** Relative speed of two catalog GPUs from specs alone (time on a / time on b), for display. */
export function catalogTimeRatio(gpuIdA: string, gpuIdB: string, precision: BenchmarkKey['precision'] = 'bf16'): number {
  return Math.exp(catalogSpeedLog(getGpu(gpuIdA), getGpu(gpuIdB), { precision }));
}
