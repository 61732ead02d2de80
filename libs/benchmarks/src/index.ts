// GPU catalog
export { GPU_CATALOG, getGpu, gpuTflops, isGpuId, lookupGpu, normalizeGpuName } from './catalog/gpu-catalog.js';
export type { GpuLookup, GpuModel } from './catalog/gpu-catalog.js';

// Results and errors
export { err, estimateError, ok } from './result.js';
export type { EstimateError, EstimateErrorCode, Result } from './result.js';

// Model registry
export { CUSTOM_FAMILY, MODEL_REGISTRY, findRegisteredModel, formatParams, lookupModel, normalizeModelName, parseParamsFromId } from './models/model-registry.js';
export type { BaseModel, Modality, ModelLookup, ResolvedModel } from './models/model-registry.js';

// Benchmark keys and recipes
export {
  METHODS,
  PRECISIONS,
  QUANTIZATIONS,
  canonicalParamsB,
  isMethod,
  isPrecision,
  isQuantization,
  keyToString,
  makeKey,
  megapixelBucket,
  parseKeyString,
  precisionClass,
  recipeGroupString,
  sameGpuGroupString,
  seqLenBucket,
  shapeBucket,
  shapeBucketString,
  speedGroupString,
  workPerSample,
  workPerStep,
} from './key/benchmark-key.js';
export type { BenchmarkKey, Method, Precision, Quantization, Shape, ShapeBucket } from './key/benchmark-key.js';
export { LIMITS, parsePrecision, recipeKey, resolveGpu, resolveRecipe, validateGpuCount } from './key/recipe.js';
export type { RecipeInput, TrainingRecipe } from './key/recipe.js';

// Aggregates
export {
  EMPTY_MOMENTS,
  addRun,
  addValue,
  aggregateRun,
  emptyMoments,
  emptyStepTimeAggregate,
  isValidMoments,
  isValidStepTimeAggregate,
  mergeAggregates,
  mergeMoments,
  momentsOf,
  removeRunStepTime,
  removeValue,
  standardDeviation,
  variance,
} from './aggregate/aggregate.js';
export type { Moments, ProvisioningAggregate, RunObservation, StepTimeAggregate } from './aggregate/aggregate.js';

// Samples (privacy by construction) and ingestion
export { KNOWN_FAMILIES, SAMPLE_FIELDS, ingestSample, sampleFromRun, sampleKey, validateSample } from './sample/sample.js';
export type { BenchmarkSample, RunMeasurement, SampleValidationError } from './sample/sample.js';

// Memory fit
export { checkMemoryFit, estimateMemory, estimateMemoryGb, formatGb, tokensPerGpuMicroBatch, weightBytesPerParam } from './memory/memory-fit.js';
export type { MemoryBreakdown, MemoryFit } from './memory/memory-fit.js';

// Steps from data
export { stepsFromData, validateSteps } from './steps/steps-from-data.js';
export type { DatasetSize, StepsFromDataInput } from './steps/steps-from-data.js';

// Snapshot and estimator
export { BenchmarkSnapshot, DEFAULT_CATALOG_CALIBRATION, MIN_CALIBRATION_PAIRS, logSd } from './estimator/snapshot.js';
export type { CatalogCalibration, RelativeSpeed, SnapshotEntry, SnapshotInput } from './estimator/snapshot.js';
export {
  DEFAULT_TUNING,
  activeParamsB,
  catalogSpeedLog,
  describeDifference,
  estimateStepTime,
  flopsPerStep,
  priorStepTimeMs,
  scaleLog,
} from './estimator/step-time.js';
export type { Basis, EstimatorTuning, StepTimeEstimate } from './estimator/step-time.js';
export {
  DEFAULT_PROVISIONING_SECONDS,
  catalogTimeRatio,
  defaultValidationMsPerPrompt,
  estimateOffer,
  estimateOffers,
  prepareJob,
  provisioningSeconds,
} from './estimator/estimator.js';
export type { JobInput, Offer, OfferEstimate, PreparedJob, Quantiles } from './estimator/estimator.js';
export { costMicros, formatApproxCost, formatDuration, formatMicros, formatSummary, validatePrice } from './estimator/cost.js';

// Public step-time tables
export { parseCsv, parseCsvRecords } from './public-tables/csv.js';
export {
  PUBLIC_TABLES,
  aggregatePriorSamples,
  mapMethod,
  mapPrecision,
  mapQuantization,
  mapShape,
  parseLambdaTable,
  parseLlmFinetuneTable,
  parseMlperfTable,
  parsePublicTable,
  parseSimpleTunerTable,
  snapshotFromPublicTables,
  summarizeUnmapped,
} from './public-tables/public-tables.js';
export type { PriorSample, PublicTable, TableParseResult, UnmappedReason, UnmappedRow } from './public-tables/public-tables.js';
