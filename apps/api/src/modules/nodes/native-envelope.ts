import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { Prefix } from '@nats-io/nkeys';
import { Codec } from '@nats-io/nkeys/lib/codec.js';
import type { NodeKeys } from '@anneal/providers';

/**
 * Node key pairs generated with Node's native Ed25519 (OpenSSL) instead of the pure-JS tweetnacl
 * behind `@nats-io/nkeys`: the same user nkeys (`U…` public key, `SU…` seed), thousands a second,
 * for the benchmarks that register whole fleets. Signing and verifying are the protocol library's
 * (`encodeSignedMessage`, `openSignedMessage`), which are native as well.
 */

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A fresh user nkey pair, generated natively. */
export function createNativeNodeKeys(): NodeKeys {
  const seed = randomBytes(32);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const raw = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
  const decoder = new TextDecoder();
  return { publicKey: decoder.decode(Codec.encode(Prefix.User, new Uint8Array(raw))), seed: decoder.decode(Codec.encodeSeed(Prefix.User, new Uint8Array(seed))) };
}
