import { z } from 'zod';
import { idSchema } from './common.schema.js';
import { gpuTelemetrySchema } from './gpu-telemetry.schema.js';

/** An nkey public key of a user-type pair ('U…', 56 base32 characters). */
export const nkeyPublicKeySchema = z.string().regex(/^U[A-Z2-7]{55}$/, 'an nkey user public key (U…)');

/**
 * `POST /v1/provider/nodes/join` (HTTP, not NATS): the agent registers its host with a join token
 * the provider created in the console. The node's nkey public key is registered with the node; the
 * messages the node publishes are signed with the matching seed (see envelope.ts), except heartbeats,
 * which carry a MAC made with the heartbeat key the response hands out (mac-envelope.ts).
 */
export const joinRequestSchema = z.strictObject({
  schemaVersion: z.literal(1),
  /** One-time token from the provider console. A secret: never logged. */
  joinToken: z.string().min(8).max(512),
  publicKey: nkeyPublicKeySchema,
  /** Detected (or simulated) GPUs at registration time. */
  gpus: z.array(gpuTelemetrySchema).min(1).max(64),
  /** Asking price per GPU-hour in micro-dollars, as a decimal string (a bigint on both sides). */
  priceMicrosPerGpuHour: z.string().regex(/^[1-9][0-9]{0,15}$/, 'a positive integer number of micro-dollars'),
  region: z.string().min(1).max(64).nullable(),
  agentVersion: z.string().min(1).max(64),
  hostname: z.string().min(1).max(255),
  simulated: z.boolean(),
});
export type JoinRequest = z.infer<typeof joinRequestSchema>;

/** How the agent authenticates to NATS. 'nkey': with its own nkey (the server knows the public key). */
export const natsAuthSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({ kind: z.literal('token'), token: z.string().min(1).max(4096) }),
  z.strictObject({ kind: z.literal('nkey') }),
]);
export type NatsAuth = z.infer<typeof natsAuthSchema>;

/** 201 response of `POST /v1/provider/nodes/join`. */
export const joinResponseSchema = z.strictObject({
  schemaVersion: z.literal(1),
  nodeId: idSchema,
  /** nats:// URL(s) the agent connects to, comma-separated when several. */
  natsUrl: z.string().min(1).max(2000),
  natsAuth: natsAuthSchema,
  /** Subject prefix ('' in production). */
  subjectPrefix: z.string().max(100),
  /** Bearer token of this node for its HTTP calls to the API. A secret: never logged. */
  nodeToken: z.string().min(16).max(4096),
  /** The platform's nkey public key: assignments and control messages are signed with it. */
  apiPublicKey: nkeyPublicKeySchema,
  /**
   * The node's heartbeat key (32 bytes, base64url): heartbeats carry an HMAC-SHA256 made with it
   * (mac-envelope.ts). Handed out here only, once; the API keeps it encrypted. A secret: never logged.
   */
  heartbeatKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a heartbeat key (32 bytes, base64url)'),
});
export type JoinResponse = z.infer<typeof joinResponseSchema>;
