import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { heartbeatSubject } from './subjects.js';
import { createHeartbeatKey, encodeMacMessage, heartbeatKeyBytes, isHeartbeatKey, macInput, openMacMessage, verifyMacEnvelope } from './mac-envelope.js';
import { heartbeatFixture } from './testing/protocol-fixtures.js';

const keyA = heartbeatKeyBytes(createHeartbeatKey());
const keyB = heartbeatKeyBytes(createHeartbeatKey());
const subjectA = heartbeatSubject('', 'node-a');
const subjectB = heartbeatSubject('', 'node-b');
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const envelopeOf = (data: Uint8Array) => JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
const code = (result: { ok: boolean; error?: { code: string } }) => (result.ok ? 'ok' : result.error!.code);

describe('MAC envelopes (heartbeats)', () => {
  it('round-trips a heartbeat MACed with its node key on its own subject', () => {
    const heartbeat = heartbeatFixture({ nodeId: 'node-a' });
    const data = encodeMacMessage(keyA, subjectA, heartbeat);
    expect(envelopeOf(data)).toMatchObject({ envelopeVersion: 1, alg: 'hmac-sha256', payload: JSON.stringify(heartbeat) });
    expect(openMacMessage(subjectA, data, keyA)).toEqual({ ok: true, value: heartbeat });
  });

  it("refuses node B's heartbeat claiming to be node A (B's key), and A's genuine heartbeat moved to B's subject", () => {
    const forged = encodeMacMessage(keyB, subjectA, heartbeatFixture({ nodeId: 'node-a' }));
    expect(code(openMacMessage(subjectA, forged, keyA))).toBe('bad_mac');
    const genuine = encodeMacMessage(keyA, subjectA, heartbeatFixture({ nodeId: 'node-a' }));
    expect(code(openMacMessage(subjectB, genuine, keyA))).toBe('bad_mac');
    expect(code(openMacMessage(subjectB, genuine, keyB))).toBe('bad_mac');
  });

  it('refuses a tampered payload or MAC', () => {
    const envelope = envelopeOf(encodeMacMessage(keyA, subjectA, heartbeatFixture({ seq: 1 })));
    const payload = (envelope.payload as string).replace('"seq":1', '"seq":2');
    expect(code(openMacMessage(subjectA, encode({ ...envelope, payload }), keyA))).toBe('bad_mac');
    const mac = envelope.mac as string;
    const flipped = `${mac.slice(0, 10)}${mac[10] === 'A' ? 'B' : 'A'}${mac.slice(11)}`;
    expect(code(openMacMessage(subjectA, encode({ ...envelope, mac: flipped }), keyA))).toBe('bad_mac');
  });

  it('covers exactly domain, subject and the payload string', () => {
    const envelope = envelopeOf(encodeMacMessage(keyA, subjectA, { b: 1, a: 'é' }));
    expect(envelope.payload).toBe('{"b":1,"a":"é"}');
    expect(macInput(subjectA, envelope.payload as string)).toBe(`anneal-mac-v1\n${subjectA}\n{"b":1,"a":"é"}`);
  });

  it('reports malformed bodies and envelopes with stable codes', () => {
    const envelope = envelopeOf(encodeMacMessage(keyA, subjectA, heartbeatFixture()));
    expect(code(openMacMessage(subjectA, new TextEncoder().encode('{nope'), keyA))).toBe('malformed_json');
    expect(code(openMacMessage(subjectA, encode(heartbeatFixture()), keyA))).toBe('malformed_envelope');
    expect(code(openMacMessage(subjectA, encode({ ...envelope, extra: 1 }), keyA))).toBe('malformed_envelope');
    expect(code(openMacMessage(subjectA, encode({ ...envelope, alg: 'none' }), keyA))).toBe('malformed_envelope');
    expect(code(openMacMessage(subjectA, encode({ ...envelope, mac: 'short' }), keyA))).toBe('malformed_envelope');
    expect(code(openMacMessage(subjectA, encode({ ...envelope, payload: JSON.parse(envelope.payload as string) as unknown }), keyA))).toBe('malformed_envelope');
    // A right MAC over a payload that is not JSON: authentic, but unreadable.
    const mac = createHmac('sha256', keyA).update(macInput(subjectA, '{nope')).digest('base64url');
    expect(code(verifyMacEnvelope({ envelopeVersion: 1, alg: 'hmac-sha256', mac, payload: '{nope' }, subjectA, keyA))).toBe('malformed_json');
  });

  it('creates 32-byte keys and refuses anything else as a key, without echoing it', () => {
    const key = createHeartbeatKey();
    expect(isHeartbeatKey(key)).toBe(true);
    expect(heartbeatKeyBytes(key)).toHaveLength(32);
    expect(createHeartbeatKey()).not.toBe(key);
    expect(() => heartbeatKeyBytes('not-a-key')).toThrow(/^a heartbeat key is 32 bytes/);
    expect(() => heartbeatKeyBytes(`${key.slice(0, 42)}!`)).toThrow(/^a heartbeat key is 32 bytes/);
  });
});
