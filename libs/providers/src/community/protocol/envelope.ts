/**
 * Signed envelopes: spoofing defence for the community protocol.
 *
 * Each node gets a user-type nkey pair (Ed25519) when it registers: the agent keeps the seed, the
 * API stores the public key with the node. The platform has its own pair; nodes learn its public
 * key at registration (`apiPublicKey`). Every message body on the wire is a {@link SignedEnvelope}:
 *
 *   { "envelopeVersion": 1, "signer": "U…", "sig": "<base64url Ed25519>", "payload": { … } }
 *
 * The signature covers `anneal-sig-v1\n<subject>\n<canonical JSON of payload>`, so it binds the
 * payload to the exact subject it was published on: a heartbeat of node A replayed on node B's
 * subject, or an event of attempt X moved to attempt Y's subject, fails verification. The verifier
 * never trusts `signer`: it checks against the key it has registered for the subject's node (or the
 * platform key) and reports `wrong_signer` when they differ.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { createUser, fromSeed, Prefix, type KeyPair } from '@nats-io/nkeys';
import { Codec } from '@nats-io/nkeys/lib/codec.js';
import type { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { decodeJson, parseMessage, protocolError, type ParseResult } from './parse.js';

export const SIGNATURE_DOMAIN = 'anneal-sig-v1';

export interface SignedEnvelope<T = unknown> {
  envelopeVersion: 1;
  /** The signer's nkey public key (informational: verifiers use the key they registered). */
  signer: string;
  /** base64url Ed25519 signature over {@link signingInput}. */
  sig: string;
  payload: T;
}

/** A node's (or the platform's) signing identity. The seed is a secret: never log it. */
export interface NodeKeys {
  publicKey: string;
  seed: string;
}

/** A fresh user-type nkey pair, for `anneal-agent register` (and the platform's key). */
export function createNodeKeys(): NodeKeys {
  const pair = createUser();
  return { publicKey: pair.getPublicKey(), seed: new TextDecoder().decode(pair.getSeed()) };
}

/** The key pair of a seed ('SU…'). Throws when the seed is not a valid nkey seed. */
export function keyPairFromSeed(seed: string): KeyPair {
  return fromSeed(new TextEncoder().encode(seed));
}

/** The public key of a seed. */
export function publicKeyFromSeed(seed: string): string {
  return keyPairFromSeed(seed).getPublicKey();
}

/** The exact bytes that are signed. */
export function signingInput(subject: string, payload: unknown): Uint8Array {
  return new TextEncoder().encode(`${SIGNATURE_DOMAIN}\n${subject}\n${canonicalJson(payload)}`);
}

// Signing and verifying run on Node's native Ed25519 (OpenSSL): the same keys, bytes and
// signatures as nkeys' pure-JS tweetnacl (Ed25519 is deterministic), at tens of thousands a second
// instead of hundreds. Parsed keys are kept (bounded) so a hot path parses each key once.
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const KEY_CACHE_LIMIT = 20_000;
const signingKeys = new Map<string, { key: KeyObject; publicKey: string }>();
const verifyKeys = new Map<string, KeyObject>();

function remember<V>(cache: Map<string, V>, id: string, value: V): V {
  if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
  cache.set(id, value);
  return value;
}

function signingKey(seed: string): { key: KeyObject; publicKey: string } {
  const known = signingKeys.get(seed);
  if (known) return known;
  const { prefix, buf } = Codec.decodeSeed(new TextEncoder().encode(seed));
  if (prefix !== Prefix.User) throw new Error('not a user nkey seed');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(buf)]), format: 'der', type: 'pkcs8' });
  const raw = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length));
  return remember(signingKeys, seed, { key, publicKey: new TextDecoder().decode(Codec.encode(Prefix.User, raw)) });
}

function verifyKey(publicKey: string): KeyObject {
  const known = verifyKeys.get(publicKey);
  if (known) return known;
  const raw = Codec.decode(Prefix.User, new TextEncoder().encode(publicKey));
  return remember(verifyKeys, publicKey, createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(raw)]), format: 'der', type: 'spki' }));
}

/** Signs `payload` for publication on `subject`. `signer`: a seed string or a KeyPair. */
export function signEnvelope<T>(signer: KeyPair | string, subject: string, payload: T): SignedEnvelope<T> {
  const native = signingKey(typeof signer === 'string' ? signer : new TextDecoder().decode(signer.getSeed()));
  const sig = sign(null, signingInput(subject, payload), native.key).toString('base64url');
  return { envelopeVersion: 1, signer: native.publicKey, sig, payload };
}

/** signEnvelope, encoded as the message body (UTF-8 JSON). */
export function encodeSignedMessage(signer: KeyPair | string, subject: string, payload: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(signEnvelope(signer, subject, payload)));
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

/**
 * Signatures this process verified lately, each with the exact bytes it covered: the same message
 * often arrives twice in one process (an attempt's `accepted` reaches both the provider adapter
 * waiting for it and the attempt-events consumer), and the second check is then a comparison
 * instead of an Ed25519 verification. Only a byte-identical signed input under the same key hits.
 */
const VERIFIED_LIMIT = 4_096;
const verified = new Map<string, Uint8Array>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function verifySignature(input: Uint8Array, sigText: string, publicKey: string, verifier: KeyObject): boolean {
  const memoKey = `${publicKey}:${sigText}`;
  const seen = verified.get(memoKey);
  if (seen && sameBytes(seen, input)) return true;
  const sig = Buffer.from(sigText, 'base64url');
  let valid = false;
  try {
    valid = sig.length === 64 && verify(null, input, verifier, sig);
  } catch {
    valid = false;
  }
  if (valid) {
    if (verified.size >= VERIFIED_LIMIT) verified.delete(verified.keys().next().value!);
    verified.set(memoKey, input);
  }
  return valid;
}

/**
 * Verifies an envelope received on `subject` against the public key the verifier trusts for it
 * (the registered key of the subject's node, or the platform key). Returns the (unvalidated) payload.
 */
export function verifyEnvelope(envelope: unknown, subject: string, expectedPublicKey: string): ParseResult<unknown> {
  if (!isEnvelope(envelope)) return protocolError('malformed_envelope', 'the message is not a signed envelope');
  if (envelope.signer !== expectedPublicKey) {
    return protocolError('wrong_signer', 'the message is signed by a key other than the one registered for this subject');
  }
  let verifier: KeyObject;
  let input: Uint8Array;
  try {
    verifier = verifyKey(expectedPublicKey);
    input = signingInput(subject, envelope.payload);
  } catch {
    return protocolError('malformed_envelope', 'the envelope or the expected public key cannot be read');
  }
  const valid = verifySignature(input, envelope.sig, expectedPublicKey, verifier);
  if (!valid) return protocolError('bad_signature', 'the signature does not match the payload and subject');
  return { ok: true, value: envelope.payload };
}

/**
 * The whole receive path: bytes → JSON → envelope → signature (against `expectedPublicKey`, bound
 * to `subject`) → schema. Anything wrong comes back as a {@link ParseResult} error with a stable code.
 */
export function openSignedMessage<S extends z.ZodType>(
  schema: S,
  subject: string,
  data: Uint8Array,
  expectedPublicKey: string,
): ParseResult<z.infer<S>> {
  const json = decodeJson(data);
  if (!json.ok) return json;
  const verified = verifyEnvelope(json.value, subject, expectedPublicKey);
  if (!verified.ok) return verified;
  return parseMessage(schema, verified.value);
}

/** The signer a message claims (to look up the node when subjects carry no node id). Untrusted. */
export function claimedSigner(data: Uint8Array): string | null {
  const json = decodeJson(data);
  return json.ok && isEnvelope(json.value) ? json.value.signer : null;
}
