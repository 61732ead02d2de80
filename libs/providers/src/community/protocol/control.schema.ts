import { z } from 'zod';
import { idSchema, instantSchema, schemaVersionSchema } from './common.schema.js';

export const cancelReasonSchema = z.enum(['user_canceled', 'budget_exhausted', 'max_duration_exceeded', 'admin', 'rescheduled']);
export type CancelReason = z.infer<typeof cancelReasonSchema>;

/** Stop one attempt: the agent stops the runner, uploads what it can and reports `finished: canceled`. */
export const cancelControlSchema = z.strictObject({
  schemaVersion: schemaVersionSchema,
  type: z.literal('cancel'),
  nodeId: idSchema,
  attemptId: idSchema,
  reason: cancelReasonSchema,
  issuedAt: instantSchema,
});
export type CancelControl = z.infer<typeof cancelControlSchema>;

/** Take no new work; finish (or checkpoint) the running attempt; heartbeat state 'draining'. */
export const drainControlSchema = z.strictObject({
  schemaVersion: schemaVersionSchema,
  type: z.literal('drain'),
  nodeId: idSchema,
  reason: z.string().max(500).nullable(),
  issuedAt: instantSchema,
});
export type DrainControl = z.infer<typeof drainControlSchema>;

/** `anneal.nodes.<nodeId>.control`, api → agent, core NATS, signed by the API's platform key. */
export const controlMessageSchema = z.discriminatedUnion('type', [cancelControlSchema, drainControlSchema]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;
