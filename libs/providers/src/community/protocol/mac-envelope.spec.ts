import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { heartbeatSubject } from './subjects.js';
import { createHeartbeatKey, encodeMacMessage, heartbeatKeyBytes, isHeartbeatKey, isMacMessage, macPrefix, openMacMessage } from './mac-envelope.js';
import { heartbeatFixture } from './testing/protocol-fixtures.js';

const keyA = heartbeatKeyBytes(createHeartbeatKey());
const keyB = heartbeatKeyBytes(createHeartbeatKey());
const subjectA = heartbeatSubject('', 'node-a');
const subjectB = heartbeatSubject('', 'node-b');
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const bytes = (value: string) => new TextEncoder().encode(value);
const code = (result: { ok: boolean; error?: { code: string } }) => (result.ok ? 'ok' : result.error!.code);

describe('MAC envelopes (heartbeats)', () => {
  it('round-trips a heartbeat MACed with its node key on its own subject; the body is ordinary JSON', () => {
    const heartbeat = heartbeatFixture({ nodeId: 'node-a', gpus: [{ ...heartbeatFixture().gpus[0]!, name: 'NVIDIA GeForce RTX 4090 “Ü”' }] });
    const data = encodeMacMessage(keyA, subjectA, heartbeat);
    expect(JSON.parse(text(data))).toEqual({ envelopeVersion: 1, alg: 'hmac-sha256', mac: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), payload: heartbeat });
    expect(openMacMessage(subjectA, data, keyA)).toEqual({ ok: true, value: heartbeat });
  });

  it('covers exactly domain, subject and the payload bytes as sent', () => {
    const data = encodeMacMessage(keyA, subjectA, { b: 1, a: 'é' });
    const { mac } = JSON.parse(text(data)) as { mac: string };
    expect(macPrefix(subjectA)).toBe(`anneal-mac-v1\n${subjectA}\n`);
    expect(mac).toBe(createHmac('sha256', keyA).update(`anneal-mac-v1\n${subjectA}\n{"b":1,"a":"é"}`).digest('base64url'));
    expect(text(data)).toBe(`{"envelopeVersion":1,"alg":"hmac-sha256","mac":"${mac}","payload":{"b":1,"a":"é"}}`);
  });

  it("refuses node B's heartbeat claiming to be node A (B's key), and A's genuine heartbeat moved to B's subject", () => {
    const forged = encodeMacMessage(keyB, subjectA, heartbeatFixture({ nodeId: 'node-a' }));
    expect(code(openMacMessage(subjectA, forged, keyA))).toBe('bad_mac');
    const genuine = encodeMacMessage(keyA, subjectA, heartbeatFixture({ nodeId: 'node-a' }));
    expect(code(openMacMessage(subjectB, genuine, keyA))).toBe('bad_mac');
    expect(code(openMacMessage(subjectB, genuine, keyB))).toBe('bad_mac');
  });

  it('refuses any changed byte of the MAC or the payload (property)', () => {
    const genuine = encodeMacMessage(keyA, subjectA, heartbeatFixture({ nodeId: 'node-a', seq: 1 }));
    const macAt = text(genuine).indexOf('"mac":"') + 7;
    fc.assert(
      fc.property(fc.integer({ min: macAt, max: genuine.length - 2 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const data = Uint8Array.from(genuine);
        data[at] = data[at]! ^ flip;
        expect(['bad_mac', 'malformed_envelope']).toContain(code(openMacMessage(subjectA, data, keyA)));
      }),
      { numRuns: 1_000 },
    );
  });

  it('reports what is not a MAC envelope, and an authentic payload that is not JSON, with stable codes', () => {
    const genuine = text(encodeMacMessage(keyA, subjectA, heartbeatFixture()));
    expect(code(openMacMessage(subjectA, bytes('{nope'), keyA))).toBe('malformed_envelope');
    expect(code(openMacMessage(subjectA, bytes(JSON.stringify(heartbeatFixture())), keyA))).toBe('malformed_envelope');
    // A key added after the payload lands inside what the MAC covers: not authentic.
    expect(code(openMacMessage(subjectA, bytes(JSON.stringify({ ...JSON.parse(genuine), extra: 1 })), keyA))).toBe('bad_mac');
    expect(code(openMacMessage(subjectA, bytes(genuine.replace('hmac-sha256', 'none-sha256')), keyA))).toBe('malformed_envelope');
    expect(code(openMacMessage(subjectA, bytes(`${genuine}\n`), keyA))).toBe('malformed_envelope');
    expect(code(openMacMessage(subjectA, bytes(JSON.stringify(JSON.parse(genuine), null, 1)), keyA))).toBe('malformed_envelope');
    const mac = createHmac('sha256', keyA).update(`${macPrefix(subjectA)}{nope`).digest('base64url');
    const notJson = bytes(`{"envelopeVersion":1,"alg":"hmac-sha256","mac":"${mac}","payload":{nope}`);
    expect(isMacMessage(notJson)).toBe(true);
    expect(code(openMacMessage(subjectA, notJson, keyA))).toBe('malformed_json');
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
