import { z } from 'zod';
import { countSchema, idSchema, instantSchema, nonNegativeSchema, schemaVersionSchema } from './common.schema.js';
import { gpuTelemetrySchema } from './gpu-telemetry.schema.js';

/** What the node is doing with the attempt it holds. */
export const runningAttemptSchema = z.strictObject({
  attemptId: idSchema,
  jobId: idSchema,
  /** accepted: assignment acked, runner not started yet; running; stopping: canceled/draining, winding down. */
  phase: z.enum(['accepted', 'running', 'stopping']),
  /** When the runner started (null while still 'accepted'). */
  startedAt: instantSchema.nullable(),
  /** Last step reported, null before the first one. */
  step: countSchema.nullable(),
});
export type RunningAttempt = z.infer<typeof runningAttemptSchema>;

/**
 * Node state: active (takes work), draining (finishes or checkpoints what it has, takes nothing new),
 * offline (the last heartbeat of a clean shutdown: the node deregisters itself; expect no more).
 */
export const nodeStateSchema = z.enum(['active', 'draining', 'offline']);
export type NodeState = z.infer<typeof nodeStateSchema>;

/** Bounds of the heartbeat's own fields (shared with its hand-written validator). */
export const HEARTBEAT_LIMITS = { agentVersionMaxLength: 64, maxGpus: 64 } as const;

/**
 * `anneal.nodes.<nodeId>.heartbeat`, agent → api, core NATS, every 2 s, in a MAC envelope
 * (mac-envelope.ts; nodes registered before MAC keys existed: a signed envelope). The API checks
 * it with `parseHeartbeat` (heartbeat.validator.ts: the same rules as this schema, hand-written,
 * because it runs tens of thousands of times a second).
 * `seq` never goes backwards for a node, across reconnects and restarts: the API drops a heartbeat
 * whose seq is not above the last one it saw (a replay). Heartbeats are not queued while the agent
 * is disconnected: after a gap the API sees one fresh heartbeat, then the regular cadence.
 */
export const heartbeatSchema = z.strictObject({
  schemaVersion: schemaVersionSchema,
  type: z.literal('heartbeat'),
  nodeId: idSchema,
  seq: countSchema,
  sentAt: instantSchema,
  agentVersion: z.string().min(1).max(HEARTBEAT_LIMITS.agentVersionMaxLength),
  uptimeS: nonNegativeSchema,
  /** True when the GPUs and their telemetry are synthetic (`--simulate`): never billable as real capacity. */
  simulated: z.boolean(),
  state: nodeStateSchema,
  gpus: z.array(gpuTelemetrySchema).max(HEARTBEAT_LIMITS.maxGpus),
  runningAttempt: runningAttemptSchema.nullable(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;
