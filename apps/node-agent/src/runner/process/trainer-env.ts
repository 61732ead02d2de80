import type { Assignment } from '@anneal/providers';

/** Where the trainer finds its inputs and puts its outputs (host paths, or paths inside a container). */
export interface TrainerPaths {
  datasetPath: string;
  outputDir: string;
  checkpointDir: string;
  recipePath: string;
  /** Set only when the attempt resumes. */
  resumeCheckpointPath: string | null;
}

/**
 * The environment a `process` or `container` trainer gets (the README's "Trainer contract"). No
 * ids and no credentials: the trainer never sees the attempt token or any presigned URL; the agent
 * does all transfers.
 */
export function trainerEnv(assignment: Assignment, paths: TrainerPaths): Record<string, string> {
  const { recipe } = assignment.attempt;
  const env: Record<string, string> = {
    ANNEAL_RECIPE_PATH: paths.recipePath,
    ANNEAL_RECIPE_JSON: JSON.stringify(recipe),
    ANNEAL_DATASET_PATH: paths.datasetPath,
    ANNEAL_OUTPUT_DIR: paths.outputDir,
    ANNEAL_CHECKPOINT_DIR: paths.checkpointDir,
    ANNEAL_BASE_MODEL: recipe.baseModelId,
    ANNEAL_METHOD: recipe.method,
    ANNEAL_PRECISION: recipe.precision,
    ANNEAL_BATCH_SIZE: String(recipe.batchSize),
    ANNEAL_GRADIENT_ACCUMULATION: String(recipe.gradientAccumulation),
  };
  if (recipe.steps !== null) env.ANNEAL_TOTAL_STEPS = String(recipe.steps);
  if (recipe.epochs !== null) env.ANNEAL_EPOCHS = String(recipe.epochs);
  if (recipe.sequenceLength !== null) env.ANNEAL_SEQUENCE_LENGTH = String(recipe.sequenceLength);
  if (recipe.validation) env.ANNEAL_VALIDATION_INTERVAL_STEPS = String(recipe.validation.intervalSteps);
  if (paths.resumeCheckpointPath && assignment.resumeCheckpoint) {
    env.ANNEAL_RESUME_CHECKPOINT_PATH = paths.resumeCheckpointPath;
    env.ANNEAL_RESUME_STEP = String(assignment.resumeCheckpoint.step);
  }
  return env;
}
