import type { Heartbeat } from '@anneal/providers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeLiveness, OFFLINE_AFTER_MS, SUSPECT_AFTER_MS } from './node-liveness.js';

const T0 = Date.parse('2026-11-22T08:00:00.000Z');

function heartbeat(seq: number, overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    schemaVersion: 1,
    type: 'heartbeat',
    nodeId: 'n1',
    seq,
    sentAt: new Date(T0).toISOString(),
    agentVersion: '0.1.0',
    uptimeS: 1,
    simulated: false,
    state: 'active',
    gpus: [{ index: 0, name: 'NVIDIA L4', gpuId: 'l4', vramTotalMb: 23034, vramUsedMb: 0, utilizationPct: 10, temperatureC: 40, powerW: 16 }],
    runningAttempt: null,
    ...overrides,
  };
}

function fresh() {
  const liveness = new NodeLiveness();
  const node = liveness.upsert({ nodeId: 'n1', orgId: 'o1', publicKey: 'U', simulated: false }, T0);
  return { liveness, node };
}

describe('NodeLiveness', () => {
  it('goes online on a heartbeat, suspect after 6 s, offline after 10 s, and back', () => {
    const { liveness, node } = fresh();
    liveness.applyHeartbeat(node, heartbeat(1), T0);
    expect(node.state).toBe('online');
    liveness.sweep(T0 + SUSPECT_AFTER_MS);
    expect(node.state).toBe('online');
    liveness.sweep(T0 + SUSPECT_AFTER_MS + 1);
    expect(node.state).toBe('suspect');
    liveness.sweep(T0 + OFFLINE_AFTER_MS + 1);
    expect(node.state).toBe('offline');
    liveness.applyHeartbeat(node, heartbeat(2), T0 + 20_000);
    expect(node.state).toBe('online');
    expect(liveness.takeChanges().map((change) => [change.from, change.to, change.reason])).toEqual([
      ['offline', 'online', 'heartbeat'],
      ['online', 'suspect', 'missed_heartbeats'],
      ['suspect', 'offline', 'heartbeat_timeout'],
      ['offline', 'online', 'heartbeat'],
    ]);
  });

  it('drops a heartbeat whose seq is not above the last one, and treats state offline as deregistration', () => {
    const { liveness, node } = fresh();
    expect(liveness.applyHeartbeat(node, heartbeat(5), T0)).toBe('accepted');
    expect(liveness.applyHeartbeat(node, heartbeat(5), T0 + 1)).toBe('stale');
    expect(liveness.applyHeartbeat(node, heartbeat(3, { state: 'draining' }), T0 + 2)).toBe('stale');
    expect(node.agentState).toBe('active');
    liveness.applyHeartbeat(node, heartbeat(6, { state: 'offline' }), T0 + 3);
    expect(node.state).toBe('offline');
    expect(liveness.takeChanges().at(-1)?.reason).toBe('deregistered');
  });

  it('after a restart dates the loss of a node that never came back from its last known heartbeat', () => {
    const liveness = new NodeLiveness();
    const boot = T0 + 3_600_000;
    const node = liveness.upsert({ nodeId: 'n1', orgId: 'o1', publicKey: 'U', simulated: false, state: 'online', stateSinceMs: T0, lastBeatMs: boot, graceFromMs: T0 + 60_000 }, boot);
    liveness.sweep(boot + SUSPECT_AFTER_MS + 1);
    expect(node.state).toBe('online');
    liveness.sweep(boot + OFFLINE_AFTER_MS + 1);
    expect(node.state).toBe('offline');
    expect(liveness.takeChanges()).toEqual([{ nodeId: 'n1', from: 'online', to: 'offline', atMs: T0 + 60_000 + OFFLINE_AFTER_MS, reason: 'heartbeat_timeout' }]);
  });

  it('samples telemetry once per minute', () => {
    const { liveness, node } = fresh();
    for (let i = 0; i < 90; i += 1) liveness.applyHeartbeat(node, heartbeat(i + 1), T0 + i * 2_000);
    expect(liveness.takeSamples().map((sample) => sample.minuteMs)).toEqual([T0, T0 + 60_000, T0 + 120_000]);
  });

  it('never writes a node more than once per 30 s, whatever the heartbeat timing (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3_000 }), { minLength: 1, maxLength: 200 }), (gaps) => {
        const { liveness, node } = fresh();
        let now = T0;
        let seq = 0;
        const writes: number[] = [];
        for (const gap of gaps) {
          now += gap;
          seq += 1;
          liveness.applyHeartbeat(node, heartbeat(seq), now);
          writes.push(...liveness.sweep(now).map(() => now));
        }
        for (let i = 1; i < writes.length; i += 1) expect(writes[i]! - writes[i - 1]!).toBeGreaterThanOrEqual(30_000);
        // With beats every ≤ 3 s the node never leaves online.
        expect(node.state).toBe('online');
      }),
    );
  });
});
