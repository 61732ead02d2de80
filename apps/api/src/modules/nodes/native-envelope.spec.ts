import { createNodeKeys, encodeSignedMessage, heartbeatSchema, heartbeatSubject, openSignedMessage, publicKeyFromSeed, signEnvelope, type Heartbeat } from '@anneal/providers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createNativeNodeKeys, encodeSignedNative, openSignedNative, signingKeyOf, verifyKeyOf } from './native-envelope.js';

const a = createNodeKeys();
const b = createNativeNodeKeys();
const subjectA = heartbeatSubject('p', 'node-a');

function heartbeat(seq: number, nodeId = 'node-a'): Heartbeat {
  return {
    schemaVersion: 1,
    type: 'heartbeat',
    nodeId,
    seq,
    sentAt: '2026-11-22T08:00:00.000Z',
    agentVersion: '0.1.0',
    uptimeS: 1,
    simulated: false,
    state: 'active',
    gpus: [{ index: 0, name: 'NVIDIA L4', gpuId: 'l4', vramTotalMb: 23034, vramUsedMb: 0, utilizationPct: 10, temperatureC: 40, powerW: 16 }],
    runningAttempt: null,
  };
}

const outcome = (result: { ok: boolean; error?: { code: string } }) => (result.ok ? 'ok' : result.error!.code);

describe('native envelopes', () => {
  it('creates nkeys the protocol library accepts, and signs exactly as it does', () => {
    expect(b.publicKey).toMatch(/^U[A-Z2-7]{55}$/);
    expect(publicKeyFromSeed(b.seed)).toBe(b.publicKey);
    const payload = heartbeat(1);
    const native = new TextDecoder().decode(encodeSignedNative({ key: signingKeyOf(a.seed), publicKey: a.publicKey }, subjectA, payload));
    expect(JSON.parse(native)).toEqual(signEnvelope(a.seed, subjectA, payload));
  });

  it('agrees with openSignedMessage on genuine, forged, moved, tampered and malformed messages', () => {
    const keyA = verifyKeyOf(a.publicKey);
    const genuine = encodeSignedMessage(a.seed, subjectA, heartbeat(1));
    const cases: [string, Uint8Array][] = [
      [subjectA, genuine],
      [heartbeatSubject('p', 'node-b'), genuine],
      [subjectA, encodeSignedNative({ key: signingKeyOf(b.seed), publicKey: b.publicKey }, subjectA, heartbeat(1))],
      [subjectA, new TextEncoder().encode(JSON.stringify({ ...signEnvelope(b.seed, subjectA, heartbeat(1)), signer: a.publicKey }))],
      [subjectA, new TextEncoder().encode(JSON.stringify({ ...signEnvelope(a.seed, subjectA, heartbeat(1)), payload: heartbeat(2) }))],
      [subjectA, encodeSignedMessage(a.seed, subjectA, { ...heartbeat(1), extra: true })],
      [subjectA, new TextEncoder().encode('{nope')],
      [subjectA, new TextEncoder().encode(JSON.stringify(heartbeat(1)))],
    ];
    const expected = ['ok', 'bad_signature', 'wrong_signer', 'bad_signature', 'bad_signature', 'invalid_payload', 'malformed_json', 'malformed_envelope'];
    expect(cases.map(([subject, data]) => outcome(openSignedNative(heartbeatSchema, subject, data, keyA)))).toEqual(expected);
    expect(cases.map(([subject, data]) => outcome(openSignedMessage(heartbeatSchema, subject, data, a.publicKey)))).toEqual(expected);
  });

  it('agrees with openSignedMessage on random corruptions (property)', () => {
    const keyA = verifyKeyOf(a.publicKey);
    const genuine = encodeSignedMessage(a.seed, subjectA, heartbeat(7));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: genuine.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const data = Uint8Array.from(genuine);
        data[at] = byte;
        expect(outcome(openSignedNative(heartbeatSchema, subjectA, data, keyA))).toBe(outcome(openSignedMessage(heartbeatSchema, subjectA, data, a.publicKey)));
      }),
      { numRuns: 25 },
    );
  });
});
