import { createNodeKeys, encodeSignedMessage, heartbeatSchema, heartbeatSubject, openSignedMessage, publicKeyFromSeed, signEnvelope, type Heartbeat } from '@anneal/providers';
import { describe, expect, it } from 'vitest';
import { createNativeNodeKeys } from './native-envelope.js';

const subject = heartbeatSubject('p', 'node-a');

function heartbeat(seq: number): Heartbeat {
  return {
    schemaVersion: 1,
    type: 'heartbeat',
    nodeId: 'node-a',
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

describe('native node keys', () => {
  it('are nkeys the protocol library accepts: the seed gives the public key, and what it signs opens under it alone', () => {
    const keys = createNativeNodeKeys();
    expect(keys.publicKey).toMatch(/^U[A-Z2-7]{55}$/);
    expect(keys.seed).toMatch(/^SU[A-Z2-7]{56}$/);
    expect(publicKeyFromSeed(keys.seed)).toBe(keys.publicKey);
    expect(signEnvelope(keys.seed, subject, heartbeat(1)).signer).toBe(keys.publicKey);
    const data = encodeSignedMessage(keys.seed, subject, heartbeat(1));
    expect(openSignedMessage(heartbeatSchema, subject, data, keys.publicKey)).toEqual({ ok: true, value: heartbeat(1) });
    const other = createNodeKeys();
    const refused = openSignedMessage(heartbeatSchema, subject, data, other.publicKey);
    expect(!refused.ok && refused.error.code).toBe('wrong_signer');
    expect(createNativeNodeKeys().publicKey).not.toBe(keys.publicKey);
  });
});
