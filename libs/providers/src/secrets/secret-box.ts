import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM envelopes for provider credentials at rest.
 *
 * Envelope: `v1.<keyId>.<iv>.<tag>.<ciphertext>`, each binary part base64url (no padding). The
 * version and key id are bound into the authentication tag as associated data, so moving a
 * ciphertext to another key id or version fails to open. Sealing always uses the primary key;
 * opening accepts every configured key, so keys rotate by adding a new primary, re-sealing what
 * `needsRotation` reports, then dropping the old key.
 */

export const SecretBoxErrorCode = {
  InvalidKey: 'secret_box_invalid_key',
  Malformed: 'secret_box_malformed',
  UnknownKey: 'secret_box_unknown_key',
  Tampered: 'secret_box_tampered',
} as const;
export type SecretBoxErrorCode = (typeof SecretBoxErrorCode)[keyof typeof SecretBoxErrorCode];

export class SecretBoxError extends Error {
  constructor(
    readonly code: SecretBoxErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export interface SecretBoxKey {
  /** Short identifier written into every envelope: letters, digits, '_' or '-', up to 32. */
  id: string;
  /** 32 random bytes, base64 (standard or url-safe). */
  keyBase64: string;
}

const VERSION = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]*$/;

function decodeKey(key: SecretBoxKey): Buffer {
  if (!KEY_ID.test(key.id)) {
    throw new SecretBoxError(SecretBoxErrorCode.InvalidKey, `secret key id '${key.id}' must be 1-32 letters, digits, '_' or '-'`);
  }
  const normalized = key.keyBase64.trim().replace(/-/g, '+').replace(/_/g, '/');
  const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(normalized) ? Buffer.from(normalized, 'base64') : Buffer.alloc(0);
  if (bytes.length !== 32) {
    throw new SecretBoxError(SecretBoxErrorCode.InvalidKey, `secret key '${key.id}' must be 32 bytes encoded as base64 (got ${bytes.length} bytes)`);
  }
  return bytes;
}

/** A fresh key in the form `SecretBox` takes (for setup scripts and tests). */
export function generateSecretBoxKey(id: string): SecretBoxKey {
  return { id, keyBase64: randomBytes(32).toString('base64') };
}

export class SecretBox {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly primaryKeyId: string;

  /** The first key is the primary (used to seal); the others only open older envelopes. */
  constructor(keys: readonly SecretBoxKey[]) {
    const [primary] = keys;
    if (!primary) throw new SecretBoxError(SecretBoxErrorCode.InvalidKey, 'a secret box needs at least one key');
    const map = new Map<string, Buffer>();
    for (const key of keys) {
      if (map.has(key.id)) throw new SecretBoxError(SecretBoxErrorCode.InvalidKey, `secret key id '${key.id}' is given twice`);
      map.set(key.id, decodeKey(key));
    }
    this.#keys = map;
    this.primaryKeyId = primary.id;
  }

  /** Key ids this box opens, primary first. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  seal(plaintext: string): string {
    const key = this.#keys.get(this.primaryKeyId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`${VERSION}.${this.primaryKeyId}`, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.primaryKeyId, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  open(envelope: string): string {
    const { keyId, iv, tag, ciphertext } = parseEnvelope(envelope);
    const key = this.#keys.get(keyId);
    if (!key) {
      throw new SecretBoxError(SecretBoxErrorCode.UnknownKey, `the secret was sealed with key '${keyId}', which is not configured`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${VERSION}.${keyId}`, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(SecretBoxErrorCode.Tampered, 'the secret could not be decrypted: it was altered or sealed with a different key');
    }
  }

  /** True when the envelope was sealed with a key other than the primary (re-seal it). */
  needsRotation(envelope: string): boolean {
    return parseEnvelope(envelope).keyId !== this.primaryKeyId;
  }

  /** Opens with whichever key sealed it and seals with the primary. */
  rotate(envelope: string): string {
    return this.needsRotation(envelope) ? this.seal(this.open(envelope)) : envelope;
  }

  toString(): string {
    return `SecretBox(primary=${this.primaryKeyId}, keys=${this.#keys.size})`;
  }

  toJSON(): { primaryKeyId: string; keyIds: string[] } {
    return { primaryKeyId: this.primaryKeyId, keyIds: this.keyIds };
  }
}

function parseEnvelope(envelope: string): { keyId: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const parts = envelope.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) {
    throw new SecretBoxError(SecretBoxErrorCode.Malformed, `not a sealed secret: expected '${VERSION}.<keyId>.<iv>.<tag>.<ciphertext>'`);
  }
  const [, keyId = '', ivText = '', tagText = '', ciphertextText = ''] = parts;
  if (!KEY_ID.test(keyId) || ![ivText, tagText, ciphertextText].every((part) => B64URL.test(part))) {
    throw new SecretBoxError(SecretBoxErrorCode.Malformed, 'not a sealed secret: a part is not base64url');
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SecretBoxError(SecretBoxErrorCode.Malformed, 'not a sealed secret: wrong IV or tag length');
  }
  return { keyId, iv, tag, ciphertext: Buffer.from(ciphertextText, 'base64url') };
}
