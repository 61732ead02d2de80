import { z } from 'zod';
import { countSchema, idSchema, instantSchema, schemaVersionSchema } from './common.schema.js';

/** The training recipe as the node needs it to run (mirrors the job's recipe). */
export const attemptRecipeSchema = z.strictObject({
  baseModelId: z.string().min(1).max(200),
  method: z.enum(['lora', 'qlora', 'full']),
  precision: z.enum(['bf16', 'fp16', 'fp32']),
  quantization: z.enum(['int8', 'int4', 'nf4']).nullable(),
  /** Text models: tokens per sample. Null for image models. */
  sequenceLength: z.number().int().positive().nullable(),
  /** Image models: width × height in pixels. Null for text models. */
  imageResolution: z.strictObject({ width: z.number().int().positive(), height: z.number().int().positive() }).nullable(),
  batchSize: z.number().int().positive(),
  gradientAccumulation: z.number().int().positive(),
  /** Exactly one of steps / epochs is set. */
  steps: z.number().int().positive().nullable(),
  epochs: z.number().positive().nullable(),
  validation: z
    .strictObject({
      prompts: z.array(z.string().max(4000)).max(100),
      intervalSteps: z.number().int().positive(),
    })
    .nullable(),
  hyperparameters: z.record(z.string().max(100), z.union([z.number(), z.string().max(1000), z.boolean()])),
});
export type AttemptRecipe = z.infer<typeof attemptRecipeSchema>;

/** How the node runs the attempt. 'synthetic' is the synthetic trainer (no real model). */
export const runnerKindSchema = z.enum(['container', 'process', 'synthetic']);
export type RunnerKind = z.infer<typeof runnerKindSchema>;

export const presignedPutSchema = z.strictObject({
  /** Object key the API will look for (reported back in checkpoint/finished events). */
  key: z.string().min(1).max(1024),
  putUrl: z.url(),
  /**
   * Headers the PUT must carry exactly as given, because the URL's signature covers them (e.g.
   * `x-amz-server-side-encryption: AES256`, so the object is stored encrypted). Optional.
   */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(1000)).optional(),
});
export type PresignedPut = z.infer<typeof presignedPutSchema>;

/**
 * A checkpoint to resume from (an earlier attempt's checkpoint). Optional and additive: an API that
 * never resumes leaves it out. Without `getUrl` the agent fetches a short-lived one from the API
 * (`POST /v1/attempts/:id/downloads/resume-checkpoint`, see attempt-storage.schema.ts).
 */
export const resumeCheckpointSchema = z.strictObject({
  /** A presigned GET of the checkpoint; absent: the agent asks the API right before downloading. */
  getUrl: z.url().optional(),
  /** The step the checkpoint was taken at (the runner continues at step + 1). */
  step: countSchema,
  sizeBytes: countSchema.nullable(),
});
export type ResumeCheckpoint = z.infer<typeof resumeCheckpointSchema>;

/**
 * `anneal.nodes.<nodeId>.assign`, api → agent, JetStream (stream ANNEAL_ASSIGN, workqueue; the
 * node's durable consumer `node-<nodeId>`), signed by the API's platform key. The agent answers with
 * an `accepted` (or `rejected`) event on the attempt's events subject, then acks the JetStream message.
 */
export const assignmentSchema = z.strictObject({
  schemaVersion: schemaVersionSchema,
  type: z.literal('assign'),
  nodeId: idSchema,
  attempt: z.strictObject({
    attemptId: idSchema,
    jobId: idSchema,
    recipe: attemptRecipeSchema,
    runnerKind: runnerKindSchema,
    /** Hard limit on wall-clock run time; the agent stops (checkpoint, finished: max_duration_exceeded) at it. */
    maxDurationS: z.number().int().positive(),
    /** The budget runs out at this instant (null: no cap). The agent stops there like at maxDuration. */
    budgetStopAt: instantSchema.nullable(),
    /** GPU indices (nvidia-smi) the attempt may use; null: all of them. */
    gpuIndices: z.array(countSchema).max(64).nullable(),
    /**
     * The trainer image for the `container` runner (e.g. `ghcr.io/anneal/trainer-lora:1.4`), chosen by
     * the API from the recipe. Optional and additive: absent or null, the agent uses its configured
     * default image. Never starts with '-' (it is passed as a command-line argument).
     */
    trainerImage: z
      .string()
      .max(500)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/, 'an image reference such as ghcr.io/org/trainer:1.0')
      .nullable()
      .optional(),
  }),
  dataset: z.strictObject({
    /** A presigned GET; absent: the agent asks the API right before downloading. */
    getUrl: z.url().optional(),
    sizeBytes: countSchema.nullable(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  }),
  /** Resume from this checkpoint (weights and step) instead of starting at step 0; absent or null: a fresh start. */
  resumeCheckpoint: resumeCheckpointSchema.nullable().optional(),
  /**
   * Pre-minted upload URLs. Every field is optional: what is absent the agent asks the API for,
   * with the attempt token, right before the upload (`POST /v1/attempts/:id/uploads/:slot`, see
   * attempt-storage.schema.ts), and then has `CHECKPOINT_SLOTS_PER_ATTEMPT` checkpoint slots. An
   * assignment without `uploads` carries no upload URL at all.
   */
  uploads: z
    .strictObject({
      /** The final artifact (adapter or weights archive). */
      artifact: presignedPutSchema.optional(),
      /** Pre-minted checkpoint slots, used in order; the node stops checkpointing when they run out. */
      checkpoints: z.array(presignedPutSchema).max(1000).optional(),
      /** Log archive uploaded at the end; null: none is uploaded. */
      logs: presignedPutSchema.nullable().optional(),
      /** When the URLs above expire; an assignment received after it is rejected (`expired`). */
      expiresAt: instantSchema.optional(),
    })
    .optional(),
  /**
   * Bearer token scoped to this attempt (HTTP calls back to the API: the presigned URLs of
   * attempt-storage.schema.ts). It dies when the attempt ends. A secret: never logged.
   */
  attemptToken: z.string().min(16).max(4096),
  issuedAt: instantSchema,
});
export type Assignment = z.infer<typeof assignmentSchema>;
