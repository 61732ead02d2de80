import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { decodeJson, parseMessage, protocolError, signingInput, type NodeKeys, type ParseResult, type SignedEnvelope } from '@anneal/providers';
import { Prefix } from '@nats-io/nkeys';
import { Codec } from '@nats-io/nkeys/lib/codec.js';
import type { z } from 'zod';

/**
 * The protocol's signed envelopes with Node's native Ed25519 (OpenSSL) instead of the pure-JS
 * tweetnacl behind `@nats-io/nkeys`: the same keys, the same bytes signed, the same signatures
 * (Ed25519 is deterministic) and the same outcome codes as `openSignedMessage`, at a cost the
 * heartbeat path can afford (tens of thousands of verifications a second instead of hundreds).
 * `native-envelope.spec.ts` checks it agrees with the protocol's implementation.
 */

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const encoder = new TextEncoder();

/** A registered public key, parsed once. */
export interface VerifyKey {
  publicKey: string;
  keyObject: KeyObject;
}

/** The KeyObject of an nkey user public key ('U…'). Throws on a malformed key. */
export function verifyKeyOf(publicKey: string): VerifyKey {
  const raw = Codec.decode(Prefix.User, encoder.encode(publicKey));
  return { publicKey, keyObject: createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(raw)]), format: 'der', type: 'spki' }) };
}

/** The signing KeyObject of an nkey user seed ('SU…'). A secret: never log it. */
export function signingKeyOf(seed: string): KeyObject {
  const { buf } = Codec.decodeSeed(encoder.encode(seed));
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(buf)]), format: 'der', type: 'pkcs8' });
}

/** A fresh user nkey pair, generated natively (fast: benchmarks create thousands). */
export function createNativeNodeKeys(): NodeKeys {
  const seed = randomBytes(32);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const raw = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
  const decoder = new TextDecoder();
  return { publicKey: decoder.decode(Codec.encode(Prefix.User, new Uint8Array(raw))), seed: decoder.decode(Codec.encodeSeed(Prefix.User, new Uint8Array(seed))) };
}

/** `encodeSignedMessage`, natively. */
export function encodeSignedNative(signer: { key: KeyObject; publicKey: string }, subject: string, payload: unknown): Uint8Array {
  const sig = sign(null, signingInput(subject, payload), signer.key).toString('base64url');
  const envelope: SignedEnvelope = { envelopeVersion: 1, signer: signer.publicKey, sig, payload };
  return encoder.encode(JSON.stringify(envelope));
}

function isEnvelope(value: unknown): value is SignedEnvelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value).sort().join(',');
  const candidate = value as Record<string, unknown>;
  return (
    keys === 'envelopeVersion,payload,sig,signer' &&
    candidate.envelopeVersion === 1 &&
    typeof candidate.signer === 'string' &&
    typeof candidate.sig === 'string' &&
    /^[A-Za-z0-9_-]{80,100}$/.test(candidate.sig)
  );
}

/** `openSignedMessage`, natively: bytes → JSON → envelope → signature (bound to `subject`) → schema. */
export function openSignedNative<S extends z.ZodType>(schema: S, subject: string, data: Uint8Array, expected: VerifyKey): ParseResult<z.infer<S>> {
  const json = decodeJson(data);
  if (!json.ok) return json;
  const envelope = json.value;
  if (!isEnvelope(envelope)) return protocolError('malformed_envelope', 'the message is not a signed envelope');
  if (envelope.signer !== expected.publicKey) {
    return protocolError('wrong_signer', 'the message is signed by a key other than the one registered for this subject');
  }
  let input: Uint8Array;
  try {
    input = signingInput(subject, envelope.payload);
  } catch {
    return protocolError('malformed_envelope', 'the envelope or the expected public key cannot be read');
  }
  const sig = Buffer.from(envelope.sig, 'base64url');
  let valid = false;
  try {
    valid = sig.length === 64 && verify(null, input, expected.keyObject, sig);
  } catch {
    valid = false;
  }
  if (!valid) return protocolError('bad_signature', 'the signature does not match the payload and subject');
  return parseMessage(schema, envelope.payload);
}
