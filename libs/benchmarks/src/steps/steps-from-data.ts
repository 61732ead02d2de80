/**
 * Steps from data: when a customer gives epochs and the dataset's size instead of a step count.
 *   samples: steps = ceil(samples × epochs / (batch × grad accum))
 *   tokens:  steps = ceil(tokens × epochs / (seq len × batch × grad accum))  (packed sequences)
 * Batch is the global micro-batch, so the step count is the same on every offer.
 */
import { LIMITS } from '../key/recipe.js';
import { err, estimateError, ok, type EstimateError, type Result } from '../result.js';

export type DatasetSize = { samples: number; tokens?: undefined } | { tokens: number; samples?: undefined };

export interface StepsFromDataInput {
  dataset: DatasetSize;
  epochs: number;
  batchSize: number;
  gradAccum: number;
  /** Needed when the dataset is given in tokens. */
  seqLen?: number | undefined;
}

const MAX_EPOCHS = 10_000;
const MAX_DATASET = 1e15;

function positiveWhole(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

export function stepsFromData(input: StepsFromDataInput): Result<number, EstimateError> {
  const { dataset, epochs, batchSize, gradAccum } = input;
  if (typeof epochs !== 'number' || !Number.isFinite(epochs) || epochs <= 0 || epochs > MAX_EPOCHS) {
    return err(estimateError('invalid_epochs', `epochs must be above 0 and at most ${MAX_EPOCHS.toLocaleString('en-US')}, not ${epochs}`));
  }
  if (!positiveWhole(batchSize, LIMITS.maxBatchSize)) return err(estimateError('invalid_batch_size', `batch size must be a whole number from 1 to ${LIMITS.maxBatchSize}, not ${batchSize}`));
  if (!positiveWhole(gradAccum, LIMITS.maxGradAccum)) return err(estimateError('invalid_grad_accum', `gradient accumulation must be a whole number from 1 to ${LIMITS.maxGradAccum}, not ${gradAccum}`));
  let steps: number;
  if (dataset.samples !== undefined) {
    if (!positiveWhole(dataset.samples, MAX_DATASET)) return err(estimateError('invalid_dataset', `the dataset's sample count must be a whole number above 0, not ${dataset.samples}`));
    steps = Math.ceil((dataset.samples * epochs) / (batchSize * gradAccum));
  } else if (dataset.tokens !== undefined) {
    if (!positiveWhole(dataset.tokens, MAX_DATASET)) return err(estimateError('invalid_dataset', `the dataset's token count must be a whole number above 0, not ${dataset.tokens}`));
    if (!positiveWhole(input.seqLen, LIMITS.maxSeqLen)) return err(estimateError('invalid_shape', 'a dataset given in tokens needs the sequence length'));
    steps = Math.ceil((dataset.tokens * epochs) / (input.seqLen * batchSize * gradAccum));
  } else {
    return err(estimateError('invalid_dataset', 'give the dataset size as samples or as tokens'));
  }
  return validateSteps(steps);
}

/** Steps must be a whole number from 1 to 10 million. */
export function validateSteps(steps: number): Result<number, EstimateError> {
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1) {
    return err(estimateError('invalid_steps', `steps must be a whole number of at least 1, not ${steps}`));
  }
  if (steps > LIMITS.maxSteps) {
    return err(estimateError('invalid_steps', `${steps.toLocaleString('en-US')} steps is more than the ${LIMITS.maxSteps.toLocaleString('en-US')} we estimate`));
  }
  return ok(steps);
}
