/**
 * MAC envelopes: how a node authenticates its heartbeats.
 *
 * Heartbeats are the protocol's high-volume message (every node, every 2 s): an Ed25519
 * verification per heartbeat costs ~100 µs of CPU, so 20,000 heartbeats a second would need more
 * than two cores for verification alone. Instead each node gets a 32-byte secret key at registration
 * (`heartbeatKey` in the join response, returned once; the API keeps it sealed with its SecretBox)
 * and every heartbeat body is
 *
 *   { "envelopeVersion": 1, "alg": "hmac-sha256", "mac": "<base64url HMAC-SHA256>", "payload": "<heartbeat JSON>" }
 *
 * `payload` is the heartbeat serialized as a JSON string, and the MAC covers
 * `anneal-mac-v1\n<subject>\n<payload string>` (UTF-8): the exact bytes the node sent, so no
 * canonical re-serialization is needed to check it, and the MAC binds the heartbeat to the subject
 * it was published on (node A's heartbeat replayed on node B's subject fails). The receiver checks
 * the MAC with the key it holds for the subject's node (timing-safe compare) before it parses the
 * payload. Only the node and the API know the key, so a MAC proves "sent by this node" to the API,
 * not to a third party: attempt events, which are dispute evidence, stay Ed25519-signed (envelope.ts).
 */
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { decodeJson, protocolError, type ParseResult } from './protocol-error.js';

export const MAC_DOMAIN = 'anneal-mac-v1';
export const HEARTBEAT_MAC_ALG = 'hmac-sha256';

/** The body of a MAC-authenticated message. */
export interface MacEnvelope {
  envelopeVersion: 1;
  alg: typeof HEARTBEAT_MAC_ALG;
  /** base64url HMAC-SHA256 (32 bytes, 43 characters) over {@link macInput}. */
  mac: string;
  /** The message, serialized as JSON. */
  payload: string;
}

/** A node's heartbeat key as handed out and stored: 32 random bytes, base64url (43 characters). A secret. */
export type HeartbeatKeyText = string;

const KEY_TEXT = /^[A-Za-z0-9_-]{43}$/;
const MAC_TEXT = /^[A-Za-z0-9_-]{43}$/;

/** A fresh heartbeat key (the API issues one per node at registration). */
export function createHeartbeatKey(): HeartbeatKeyText {
  return randomBytes(32).toString('base64url');
}

/** Whether a string has the form of a heartbeat key. */
export function isHeartbeatKey(text: string): boolean {
  return KEY_TEXT.test(text) && Buffer.from(text, 'base64url').length === 32;
}

/** The key bytes of a heartbeat key. Throws on anything else (never echoing the value: it is a secret). */
export function heartbeatKeyBytes(text: HeartbeatKeyText): Buffer {
  if (!isHeartbeatKey(text)) throw new TypeError('a heartbeat key is 32 bytes, base64url-encoded (43 characters)');
  return Buffer.from(text, 'base64url');
}

/** The exact string the MAC covers (hashed as UTF-8). */
export function macInput(subject: string, payloadJson: string): string {
  return `${MAC_DOMAIN}\n${subject}\n${payloadJson}`;
}

type MacKey = Buffer | KeyObject;

function macOf(key: MacKey, subject: string, payloadJson: string): Buffer {
  return createHmac('sha256', key).update(macInput(subject, payloadJson), 'utf8').digest();
}

/** The MAC envelope of `payload` for publication on `subject`, encoded as the message body (UTF-8 JSON). */
export function encodeMacMessage(key: MacKey, subject: string, payload: unknown): Uint8Array {
  const payloadJson = JSON.stringify(payload);
  const envelope: MacEnvelope = { envelopeVersion: 1, alg: HEARTBEAT_MAC_ALG, mac: macOf(key, subject, payloadJson).toString('base64url'), payload: payloadJson };
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

/** Whether a decoded message body is a MAC envelope (any other `alg`, or none, is not). */
export function isMacEnvelope(value: unknown): value is MacEnvelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const candidate = value as Record<string, unknown>;
  return (
    candidate.alg === HEARTBEAT_MAC_ALG &&
    candidate.envelopeVersion === 1 &&
    typeof candidate.mac === 'string' &&
    typeof candidate.payload === 'string' &&
    Object.keys(candidate).length === 4
  );
}

/**
 * Checks a decoded envelope received on `subject` against the node's key and returns the decoded
 * (unvalidated) payload. Codes: `malformed_envelope`, `bad_mac`, `malformed_json` (a payload string
 * that is not JSON, though its MAC is right).
 */
export function verifyMacEnvelope(envelope: unknown, subject: string, key: MacKey): ParseResult<unknown> {
  if (!isMacEnvelope(envelope) || !MAC_TEXT.test(envelope.mac)) return protocolError('malformed_envelope', 'the message is not a MAC envelope');
  const expected = macOf(key, subject, envelope.payload);
  const given = Buffer.from(envelope.mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return protocolError('bad_mac', "the MAC does not match the payload and subject under this node's key");
  }
  try {
    return { ok: true, value: JSON.parse(envelope.payload) as unknown };
  } catch {
    return protocolError('malformed_json', 'the payload is not JSON');
  }
}

/** Bytes → JSON → MAC envelope → payload (unvalidated). */
export function openMacMessage(subject: string, data: Uint8Array, key: MacKey): ParseResult<unknown> {
  const json = decodeJson(data);
  return json.ok ? verifyMacEnvelope(json.value, subject, key) : json;
}
