/**
 * MAC envelopes: how a node authenticates its heartbeats.
 *
 * Heartbeats are the protocol's high-volume message (every node, every 2 s): an Ed25519
 * verification per heartbeat costs ~100 µs of CPU, so 20,000 heartbeats a second would need more
 * than two cores for verification alone. Instead each node gets a 32-byte secret key at registration
 * (`heartbeatKey` in the join response, returned once; the API keeps it sealed with its SecretBox)
 * and every heartbeat body is, byte for byte,
 *
 *   {"envelopeVersion":1,"alg":"hmac-sha256","mac":"<43 characters: base64url HMAC-SHA256>","payload":<heartbeat JSON>}
 *
 * The MAC covers `anneal-mac-v1\n<subject>\n` followed by the payload's bytes exactly as they stand
 * in the body (UTF-8 JSON), so the receiver checks it before parsing anything and parses the JSON
 * once, with no canonical re-serialization; and it binds the heartbeat to the subject it was
 * published on (node A's heartbeat replayed on node B's subject fails). The body is ordinary JSON
 * to any reader, but only this exact layout (key order, no whitespace) is accepted: build it with
 * {@link encodeMacMessage}. Only the node and the API know the key, so a MAC proves "sent by this
 * node" to the API, not to a third party: attempt events, which are dispute evidence, stay
 * Ed25519-signed (envelope.ts).
 */
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { protocolError, type ParseResult } from './protocol-error.js';

export const MAC_DOMAIN = 'anneal-mac-v1';
export const HEARTBEAT_MAC_ALG = 'hmac-sha256';

/** A node's heartbeat key as handed out and stored: 32 random bytes, base64url (43 characters). A secret. */
export type HeartbeatKeyText = string;

const KEY_TEXT = /^[A-Za-z0-9_-]{43}$/;
const MAC_CHARS = 43;
const HEAD = Buffer.from(`{"envelopeVersion":1,"alg":"${HEARTBEAT_MAC_ALG}","mac":"`, 'latin1');
const BEFORE_PAYLOAD = Buffer.from('","payload":', 'latin1');
const PAYLOAD_AT = HEAD.length + MAC_CHARS + BEFORE_PAYLOAD.length;
const CLOSE = '}'.charCodeAt(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

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

/** What the MAC covers, before the payload bytes. */
export function macPrefix(subject: string): string {
  return `${MAC_DOMAIN}\n${subject}\n`;
}

type MacKey = Buffer | KeyObject;

function macOf(key: MacKey, subject: string, payload: Uint8Array): Buffer {
  return createHmac('sha256', key).update(macPrefix(subject), 'utf8').update(payload).digest();
}

/** The MAC envelope of `payload` for publication on `subject`: the message body (one buffer, written in place). */
export function encodeMacMessage(key: MacKey, subject: string, payload: unknown): Uint8Array {
  const json = JSON.stringify(payload);
  const body = Buffer.allocUnsafe(PAYLOAD_AT + Buffer.byteLength(json, 'utf8') + 1);
  HEAD.copy(body, 0);
  BEFORE_PAYLOAD.copy(body, HEAD.length + MAC_CHARS);
  const end = PAYLOAD_AT + body.write(json, PAYLOAD_AT, 'utf8');
  body[end] = CLOSE;
  body.write(macOf(key, subject, body.subarray(PAYLOAD_AT, end)).toString('base64url'), HEAD.length, MAC_CHARS, 'latin1');
  return body;
}

/** Whether a message body is laid out as a MAC envelope (says nothing of its MAC). */
export function isMacMessage(data: Uint8Array): boolean {
  return (
    data.length > PAYLOAD_AT + 1 &&
    data[data.length - 1] === CLOSE &&
    Buffer.compare(data.subarray(0, HEAD.length), HEAD) === 0 &&
    Buffer.compare(data.subarray(HEAD.length + MAC_CHARS, PAYLOAD_AT), BEFORE_PAYLOAD) === 0
  );
}

/**
 * Bytes → MAC (against the key of the subject's node, timing-safe) → JSON payload (unvalidated).
 * Codes: `malformed_envelope` (not laid out as a MAC envelope), `bad_mac` (including a MAC that is
 * not the 43 base64url characters the key gives), `malformed_json` (an authentic payload that is not
 * UTF-8 JSON).
 */
export function openMacMessage(subject: string, data: Uint8Array, key: MacKey): ParseResult<unknown> {
  if (!isMacMessage(data)) return protocolError('malformed_envelope', 'the message is not a MAC envelope');
  const payload = data.subarray(PAYLOAD_AT, data.length - 1);
  // Compared as the 43 characters on the wire (timing-safe): one MAC has exactly one accepted text.
  const expected = Buffer.from(macOf(key, subject, payload).toString('base64url'), 'latin1');
  if (!timingSafeEqual(expected, data.subarray(HEAD.length, HEAD.length + MAC_CHARS))) {
    return protocolError('bad_mac', "the MAC does not match the payload and subject under this node's key");
  }
  try {
    return { ok: true, value: JSON.parse(utf8.decode(payload)) as unknown };
  } catch {
    return protocolError('malformed_json', 'the payload is not UTF-8 JSON');
  }
}
