import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsService } from '../../core/nats/nats.service.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { SimulatedNode } from './node-sim.js';
import { NodeLiveness, type HeartbeatWrite } from './node-liveness.js';
import { NodesRepository } from './nodes.repository.js';

/**
 * Every API replica sees every heartbeat and writes the same facts: the writes are conditional, so
 * two replicas produce one state event per change and one heartbeat write per node per 30 s.
 */
describe('node writes from several replicas', () => {
  let t: TestApp;
  let repository: NodesRepository;
  let nodeId: string;

  beforeAll(async () => {
    t = await startTestApp();
    repository = t.app.get(NodesRepository);
    const provider = await signUp(t.http);
    await t.http.post(`/v1/orgs/${provider.orgId}/provider`, {}, provider.accessToken);
    const token = (await t.http.post('/v1/provider/nodes/join-tokens', {}, provider.accessToken)).body.token;
    const node = new SimulatedNode(t.app.get(NatsService).prefix);
    nodeId = (await t.http.post('/v1/provider/nodes/join', node.joinRequest(token))).body.nodeId;
  });
  afterAll(() => t?.close());

  function replica(nowMs: number, seq: number) {
    const liveness = new NodeLiveness();
    const live = liveness.upsert({ nodeId, orgId: 'o', publicKey: 'U', simulated: false }, nowMs);
    const heartbeat = new SimulatedNode('').heartbeat({ nodeId, seq });
    liveness.applyHeartbeat(live, heartbeat, nowMs);
    return { liveness, changes: liveness.takeChanges(), write: liveness.writeFor(nodeId, nowMs) as HeartbeatWrite };
  }

  it('records one state event when two replicas see the same change, and writes heartbeat fields once per 30 s', async () => {
    const base = Date.now() + 1_000;
    const a = replica(base, 1);
    const b = replica(base + 40, 1);
    const applied = await Promise.all([
      repository.applyStateChanges(a.changes, new Map([[nodeId, a.write]])),
      repository.applyStateChanges(b.changes, new Map([[nodeId, b.write]])),
    ]);
    expect(applied[0] + applied[1]).toBe(1);
    const events: { to_state: string }[] = await t.dataSource.query(`SELECT to_state FROM node_state_events WHERE node_id = $1 AND reason = 'heartbeat'`, [nodeId]);
    expect(events).toEqual([{ to_state: 'online' }]);

    const writes = await Promise.all([repository.writeHeartbeats([{ ...a.write, atMs: base + 2_000 }]), repository.writeHeartbeats([{ ...b.write, atMs: base + 2_050 }])]);
    expect(writes[0] + writes[1]).toBe(1);
    expect(await repository.writeHeartbeats([{ ...a.write, atMs: base + 20_000 }])).toBe(0);
    expect(await repository.writeHeartbeats([{ ...b.write, atMs: base + 33_000 }])).toBe(1);

    // A stale replica cannot undo a newer change: going offline dated before the last change is refused.
    const stale = await repository.applyStateChanges([{ nodeId, from: 'online', to: 'offline', atMs: base - 5_000, reason: 'heartbeat_timeout' }], new Map());
    expect(stale).toBe(0);
    const samples = [{ nodeId, minuteMs: Math.floor(base / 60_000) * 60_000, gpus: new SimulatedNode('').gpus, runningAttemptId: null }];
    expect((await repository.insertTelemetry(samples)) + (await repository.insertTelemetry(samples))).toBe(1);
  });
});
