import { existsSync, readFileSync } from 'node:fs';
import { idSchema, isHeartbeatKey, natsAuthSchema, nkeyPublicKeySchema, publicKeyFromSeed } from '@anneal/providers';
import { z } from 'zod';
import { AgentError } from '../agent.errors.js';
import { isExposed, writePrivateFile } from './private-file.js';

export const credentialsSchema = z.strictObject({
  version: z.literal(1),
  nodeId: idSchema,
  /** The node's nkey seed (signs attempt events, and heartbeats when there is no heartbeat key). Secret. */
  nkeySeed: z.string().regex(/^SU[A-Z2-7]{56}$/),
  /**
   * The node's heartbeat key (HMAC-SHA256 of every heartbeat), from the join response. Secret.
   * Absent in files written before heartbeat keys existed: such a node signs heartbeats with its nkey.
   */
  heartbeatKey: z.string().refine(isHeartbeatKey, 'a heartbeat key (32 bytes, base64url)').optional(),
  /** Bearer token for the node's HTTP calls. Secret. */
  nodeToken: z.string().min(16),
  natsUrl: z.string().min(1),
  natsAuth: natsAuthSchema,
  subjectPrefix: z.string(),
  apiUrl: z.url(),
  apiPublicKey: nkeyPublicKeySchema,
  /** Set when registered with --simulate: the spec ('2x RTX 4090'). */
  simulate: z.string().nullable(),
  registeredAt: z.iso.datetime(),
});
export type Credentials = z.infer<typeof credentialsSchema>;

export function writeCredentials(path: string, credentials: Credentials): void {
  writePrivateFile(path, `${JSON.stringify(credentialsSchema.parse(credentials), null, 2)}\n`);
}

/** Reads and checks the credentials file; refuses one that others can read (like ssh does). */
export function readCredentials(path: string): Credentials {
  if (!existsSync(path)) {
    throw new AgentError('not_registered', `This host is not registered yet (no ${path}). Run: anneal-agent register --api URL --token TOKEN --price USD`);
  }
  if (isExposed(path)) {
    throw new AgentError('credentials_insecure', `${path} can be read by other users. Run: chmod 600 ${path}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new AgentError('credentials_invalid', `${path} is not valid JSON. Register again with anneal-agent register.`);
  }
  const parsed = credentialsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AgentError('credentials_invalid', `${path} is not a valid credentials file (${parsed.error.issues[0]?.path.join('.') ?? ''}). Register again.`);
  }
  try {
    publicKeyFromSeed(parsed.data.nkeySeed);
  } catch {
    throw new AgentError('credentials_invalid', `${path} holds an unreadable nkey seed. Register again.`);
  }
  return parsed.data;
}
