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

/**
 * `anneal.nodes.<nodeId>.heartbeat`, agent → api, core NATS, every 2 s (signed envelope).
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
  agentVersion: z.string().min(1).max(64),
  uptimeS: nonNegativeSchema,
  /** True when the GPUs and their telemetry are synthetic (`--simulate`): never billable as real capacity. */
  simulated: z.boolean(),
  state: nodeStateSchema,
  gpus: z.array(gpuTelemetrySchema).max(64),
  runningAttempt: runningAttemptSchema.nullable(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;
