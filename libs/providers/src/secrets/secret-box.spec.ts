import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSecretBoxKey, SecretBox, SecretBoxError, SecretBoxErrorCode } from './secret-box.js';

const oldKey = generateSecretBoxKey('k2025');
const newKey = generateSecretBoxKey('k2026');

function flipByte(envelope: string, partIndex: number): string {
  const parts = envelope.split('.');
  const bytes = Buffer.from(parts[partIndex] as string, 'base64url');
  bytes[0] = (bytes[0] as number) ^ 0x01;
  parts[partIndex] = bytes.toString('base64url');
  return parts.join('.');
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof SecretBoxError ? error.code : 'not a SecretBoxError';
  }
}

describe('SecretBox', () => {
  it('round-trips any text, with a versioned envelope naming the key', () => {
    const box = new SecretBox([newKey]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (plaintext) => {
        const envelope = box.seal(plaintext);
        expect(envelope.startsWith('v1.k2026.')).toBe(true);
        expect(envelope.split('.')).toHaveLength(5);
        expect(box.open(envelope)).toBe(plaintext);
      }),
      { numRuns: 50 },
    );
  });

  it('never seals the same plaintext to the same envelope and never contains it', () => {
    const box = new SecretBox([newKey]);
    const a = box.seal('rpa_SECRET_API_KEY_123');
    const b = box.seal('rpa_SECRET_API_KEY_123');
    expect(a).not.toBe(b);
    expect(a).not.toContain('SECRET');
  });

  it('seals with the primary, opens envelopes of older keys and reports them for rotation', () => {
    const before = new SecretBox([oldKey]);
    const sealedWithOld = before.seal('gcp-service-account-json');
    const after = new SecretBox([newKey, oldKey]);
    expect(after.open(sealedWithOld)).toBe('gcp-service-account-json');
    expect(after.needsRotation(sealedWithOld)).toBe(true);
    const rotated = after.rotate(sealedWithOld);
    expect(rotated.startsWith('v1.k2026.')).toBe(true);
    expect(after.needsRotation(rotated)).toBe(false);
    expect(new SecretBox([newKey]).open(rotated)).toBe('gcp-service-account-json');
  });

  it('refuses an envelope whose key is no longer configured', () => {
    const sealed = new SecretBox([oldKey]).seal('x');
    expect(codeOf(() => new SecretBox([newKey]).open(sealed))).toBe(SecretBoxErrorCode.UnknownKey);
  });

  it('detects tampering with the ciphertext, the tag, the iv or the key id', () => {
    const box = new SecretBox([newKey, oldKey]);
    const sealed = box.seal('a provider key');
    expect(codeOf(() => box.open(flipByte(sealed, 4)))).toBe(SecretBoxErrorCode.Tampered);
    expect(codeOf(() => box.open(flipByte(sealed, 3)))).toBe(SecretBoxErrorCode.Tampered);
    expect(codeOf(() => box.open(flipByte(sealed, 2)))).toBe(SecretBoxErrorCode.Tampered);
    // Same bytes relabelled as sealed by the other key: the key id is authenticated.
    expect(codeOf(() => box.open(sealed.replace('v1.k2026.', 'v1.k2025.')))).toBe(SecretBoxErrorCode.Tampered);
  });

  it('rejects malformed envelopes and bad keys with a typed error', () => {
    const box = new SecretBox([newKey]);
    expect(codeOf(() => box.open('plain text'))).toBe(SecretBoxErrorCode.Malformed);
    expect(codeOf(() => box.open('v2.k2026.a.b.c'))).toBe(SecretBoxErrorCode.Malformed);
    expect(codeOf(() => box.open('v1.k2026.!!.b.c'))).toBe(SecretBoxErrorCode.Malformed);
    expect(codeOf(() => new SecretBox([]))).toBe(SecretBoxErrorCode.InvalidKey);
    expect(codeOf(() => new SecretBox([{ id: 'short', keyBase64: Buffer.alloc(16).toString('base64') }]))).toBe(SecretBoxErrorCode.InvalidKey);
    expect(codeOf(() => new SecretBox([{ id: 'bad.id', keyBase64: newKey.keyBase64 }]))).toBe(SecretBoxErrorCode.InvalidKey);
    expect(codeOf(() => new SecretBox([newKey, newKey]))).toBe(SecretBoxErrorCode.InvalidKey);
  });

  it('never prints key material', () => {
    const box = new SecretBox([newKey, oldKey]);
    const printed = [String(box), JSON.stringify(box), `${box}`].join(' ');
    expect(printed).toContain('k2026');
    expect(printed).not.toContain(newKey.keyBase64);
    expect(printed).not.toContain(oldKey.keyBase64);
  });
});
