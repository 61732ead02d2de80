import { z } from 'zod';
import { countSchema, idSchema, instantSchema, nonNegativeSchema, schemaVersionSchema } from './common.schema.js';
import { runnerKindSchema } from './assignment.schema.js';
import { cancelReasonSchema } from './control.schema.js';
import { benchmarkSampleSchema } from './benchmark-sample.schema.js';

/**
 * Fields every attempt event carries. `eventSeq` counts 0, 1, 2… per attempt (the JetStream
 * `Nats-Msg-Id` is `<attemptId>:<eventSeq>`), so the API can order, de-duplicate and spot gaps.
 */
const base = {
  schemaVersion: schemaVersionSchema,
  attemptId: idSchema,
  nodeId: idSchema,
  eventSeq: countSchema,
  at: instantSchema,
};

/** The assignment acknowledgement: the node holds the attempt and is about to start it. */
export const acceptedEventSchema = z.strictObject({ ...base, type: z.literal('accepted') });

/** The node refuses the assignment; the API re-matches the attempt elsewhere. */
export const rejectedEventSchema = z.strictObject({
  ...base,
  type: z.literal('rejected'),
  reason: z.enum(['busy', 'draining', 'expired', 'invalid_assignment', 'insufficient_gpus']),
  message: z.string().max(1000),
});

export const startedEventSchema = z.strictObject({
  ...base,
  type: z.literal('started'),
  runnerKind: runnerKindSchema,
  /** Name of the runner implementation, e.g. 'wiring-check' or 'container'. */
  runnerName: z.string().min(1).max(100),
  gpuIndices: z.array(countSchema).max(64),
  totalSteps: z.number().int().positive().nullable(),
});

export const stepEventSchema = z.strictObject({
  ...base,
  type: z.literal('step'),
  step: countSchema,
  totalSteps: z.number().int().positive().nullable(),
  loss: z.number().finite().nullable(),
  stepTimeMs: nonNegativeSchema,
  tokensPerS: nonNegativeSchema.nullable(),
  gpuUtilizationPct: z.number().min(0).max(100).nullable(),
});

export const logEventSchema = z.strictObject({
  ...base,
  type: z.literal('log'),
  stream: z.enum(['stdout', 'stderr', 'agent']),
  /** One line, at most 8 KiB; longer lines are cut by the agent. With `lines`, the batch's first line. */
  line: z.string().max(8192),
  /**
   * A batch of lines of the same stream, in order (`lines[0] === line`). Optional: a consumer that
   * reads only `line` sees the first line of each batch; read `lines ?? [line]`.
   */
  lines: z.array(z.string().max(8192)).min(1).max(200).optional(),
});

export const validationEventSchema = z.strictObject({
  ...base,
  type: z.literal('validation'),
  step: countSchema,
  promptCount: countSchema,
  timePerPromptMs: nonNegativeSchema,
  totalTimeMs: nonNegativeSchema,
});

export const checkpointEventSchema = z.strictObject({
  ...base,
  type: z.literal('checkpoint'),
  step: countSchema,
  key: z.string().min(1).max(1024),
  sizeBytes: countSchema,
  /**
   * Why it was taken: on the interval, at the normal end, or the final checkpoint of an attempt
   * stopped early (its exit reason). Optional: absent means 'interval'.
   */
  reason: z.enum(['interval', 'completed', 'canceled', 'preempted', 'max_duration_exceeded', 'budget_exhausted']).optional(),
});

/**
 * How the attempt ended on the node. The API maps it onto the attempt's end reason:
 * completed → completed; canceled → the reason it sent; preempted (node drained or shut down) →
 * preempted; max_duration_exceeded / budget_exhausted → budget_exhausted; error → error.
 */
export const exitReasonSchema = z.enum(['completed', 'canceled', 'preempted', 'max_duration_exceeded', 'budget_exhausted', 'error']);
export type ExitReason = z.infer<typeof exitReasonSchema>;

export const finishedEventSchema = z.strictObject({
  ...base,
  type: z.literal('finished'),
  exitReason: exitReasonSchema,
  /** Set when exitReason is 'canceled': the reason the cancel carried. */
  cancelReason: cancelReasonSchema.nullable(),
  /** A sentence for people (error detail); never secrets. */
  message: z.string().max(2000).nullable(),
  finalMetrics: z.strictObject({
    steps: countSchema,
    loss: z.number().finite().nullable(),
    stepTimeMsMean: nonNegativeSchema.nullable(),
    durationS: nonNegativeSchema,
  }),
  /** Object keys uploaded (from the assignment's presigned slots). */
  artifactKeys: z.array(z.string().min(1).max(1024)).max(1000),
});

export const benchmarkSampleEventSchema = z.strictObject({
  ...base,
  type: z.literal('benchmark_sample'),
  sample: benchmarkSampleSchema,
});

/** `anneal.attempts.<attemptId>.events`, agent → api, JetStream (ANNEAL_ATTEMPT_EVENTS), signed by the node. */
export const attemptEventSchema = z.discriminatedUnion('type', [
  acceptedEventSchema,
  rejectedEventSchema,
  startedEventSchema,
  stepEventSchema,
  logEventSchema,
  validationEventSchema,
  checkpointEventSchema,
  finishedEventSchema,
  benchmarkSampleEventSchema,
]);
export type AttemptEvent = z.infer<typeof attemptEventSchema>;
export type AttemptEventType = AttemptEvent['type'];
export type AcceptedEvent = z.infer<typeof acceptedEventSchema>;
export type RejectedEvent = z.infer<typeof rejectedEventSchema>;
export type StartedEvent = z.infer<typeof startedEventSchema>;
export type StepEvent = z.infer<typeof stepEventSchema>;
export type LogEvent = z.infer<typeof logEventSchema>;
export type ValidationEvent = z.infer<typeof validationEventSchema>;
export type CheckpointEvent = z.infer<typeof checkpointEventSchema>;
export type FinishedEvent = z.infer<typeof finishedEventSchema>;
export type BenchmarkSampleEvent = z.infer<typeof benchmarkSampleEventSchema>;
/** An attempt event before the agent stamps the common fields on it. */
export type AttemptEventBody = AttemptEvent extends infer E ? (E extends AttemptEvent ? Omit<E, 'schemaVersion' | 'attemptId' | 'nodeId' | 'eventSeq' | 'at'> : never) : never;
