import { describe, expect, it } from 'vitest';
import { heartbeatSchema } from './heartbeat.schema.js';
import { canonicalJson } from './canonical-json.js';
import { claimedSigner, createNodeKeys, encodeSignedMessage, openSignedMessage, publicKeyFromSeed, signEnvelope, verifyEnvelope } from './envelope.js';
import { attemptEventsSubject, heartbeatSubject } from './subjects.js';
import { heartbeatFixture } from './testing/protocol-fixtures.js';

const nodeA = createNodeKeys();
const nodeB = createNodeKeys();
const subjectA = heartbeatSubject('', 'node-a');
const subjectB = heartbeatSubject('', 'node-b');

describe('signed envelopes', () => {
  it('round-trips a heartbeat signed by its node on its own subject', () => {
    const heartbeat = heartbeatFixture({ nodeId: 'node-a' });
    const result = openSignedMessage(heartbeatSchema, subjectA, encodeSignedMessage(nodeA.seed, subjectA, heartbeat), nodeA.publicKey);
    expect(result).toEqual({ ok: true, value: heartbeat });
  });

  it('checks a message seen before as strictly as a new one: the same bytes pass again, any change under the same signature fails', () => {
    const heartbeat = heartbeatFixture({ nodeId: 'node-a' });
    const data = encodeSignedMessage(nodeA.seed, subjectA, heartbeat);
    // Twice: the second time the process remembers having verified these exact bytes.
    expect(openSignedMessage(heartbeatSchema, subjectA, data, nodeA.publicKey)).toEqual({ ok: true, value: heartbeat });
    expect(openSignedMessage(heartbeatSchema, subjectA, new Uint8Array(data), nodeA.publicKey)).toEqual({ ok: true, value: heartbeat });
    // The same signature over a changed payload, or on another subject, or against another key.
    const changed = new TextEncoder().encode(new TextDecoder().decode(data).replace(`"seq":${heartbeat.seq}`, `"seq":${heartbeat.seq + 1}`));
    expect(changed).not.toEqual(data);
    const tampered = openSignedMessage(heartbeatSchema, subjectA, changed, nodeA.publicKey);
    expect(!tampered.ok && tampered.error.code).toBe('bad_signature');
    const moved = openSignedMessage(heartbeatSchema, subjectB, data, nodeA.publicKey);
    expect(!moved.ok && moved.error.code).toBe('bad_signature');
    const otherKey = openSignedMessage(heartbeatSchema, subjectA, data, nodeB.publicKey);
    expect(!otherKey.ok && otherKey.error.code).toBe('wrong_signer');
  });

  it('refuses a payload signed by node A published on node B subject', () => {
    const data = encodeSignedMessage(nodeA.seed, subjectA, heartbeatFixture({ nodeId: 'node-b' }));
    // The API looks up node B's registered key for a message on node B's subject.
    const result = openSignedMessage(heartbeatSchema, subjectB, data, nodeB.publicKey);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe('wrong_signer');
  });

  it('refuses node A claiming to be node B (forged signer field)', () => {
    const envelope = { ...signEnvelope(nodeA.seed, subjectB, heartbeatFixture({ nodeId: 'node-b' })), signer: nodeB.publicKey };
    const result = verifyEnvelope(envelope, subjectB, nodeB.publicKey);
    expect(!result.ok && result.error.code).toBe('bad_signature');
  });

  it('refuses a genuine message of node A replayed onto another subject', () => {
    const envelope = signEnvelope(nodeA.seed, attemptEventsSubject('', 'attempt-1'), { any: 'event' });
    expect(verifyEnvelope(envelope, attemptEventsSubject('', 'attempt-1'), nodeA.publicKey).ok).toBe(true);
    const moved = verifyEnvelope(envelope, attemptEventsSubject('', 'attempt-2'), nodeA.publicKey);
    expect(!moved.ok && moved.error.code).toBe('bad_signature');
  });

  it('refuses a tampered payload', () => {
    const envelope = signEnvelope(nodeA.seed, subjectA, heartbeatFixture({ nodeId: 'node-a', seq: 1 }));
    const tampered = { ...envelope, payload: { ...envelope.payload, seq: 2 } };
    const result = verifyEnvelope(tampered, subjectA, nodeA.publicKey);
    expect(!result.ok && result.error.code).toBe('bad_signature');
  });

  it('verifies regardless of key order and whitespace on the way (canonical JSON)', () => {
    const envelope = signEnvelope(nodeA.seed, subjectA, { b: 1, a: { d: [1, 2], c: 'x' } });
    const reordered = JSON.parse(JSON.stringify({ ...envelope, payload: { a: { c: 'x', d: [1, 2] }, b: 1 } }, null, 2)) as unknown;
    expect(verifyEnvelope(reordered, subjectA, nodeA.publicKey).ok).toBe(true);
  });

  it('reports malformed bodies and invalid payloads with stable codes', () => {
    const bad = openSignedMessage(heartbeatSchema, subjectA, new TextEncoder().encode('{nope'), nodeA.publicKey);
    expect(!bad.ok && bad.error.code).toBe('malformed_json');
    const notEnvelope = openSignedMessage(heartbeatSchema, subjectA, new TextEncoder().encode(JSON.stringify(heartbeatFixture())), nodeA.publicKey);
    expect(!notEnvelope.ok && notEnvelope.error.code).toBe('malformed_envelope');
    const extraField = openSignedMessage(
      heartbeatSchema,
      subjectA,
      encodeSignedMessage(nodeA.seed, subjectA, { ...heartbeatFixture(), userId: 'u1' }),
      nodeA.publicKey,
    );
    expect(!extraField.ok && extraField.error.code).toBe('invalid_payload');
  });

  it('creates user nkeys whose seed yields the public key, and exposes the claimed signer', () => {
    expect(nodeA.publicKey).toMatch(/^U[A-Z2-7]{55}$/);
    expect(nodeA.seed.startsWith('SU')).toBe(true);
    expect(publicKeyFromSeed(nodeA.seed)).toBe(nodeA.publicKey);
    expect(claimedSigner(encodeSignedMessage(nodeA.seed, subjectA, {}))).toBe(nodeA.publicKey);
  });
});

describe('canonicalJson', () => {
  it('sorts keys, drops undefined properties and refuses non-finite numbers', () => {
    expect(canonicalJson({ b: 2, a: [3, { z: 1, y: undefined }], c: null })).toBe('{"a":[3,{"z":1}],"b":2,"c":null}');
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/non-finite/);
  });
});
