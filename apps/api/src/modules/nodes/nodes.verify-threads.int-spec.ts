import { expectEventually } from '@anneal/test/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsService } from '../../core/nats/nats.service.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { SimulatedNode } from './node-sim.js';
import { NodesConsumer } from './nodes.consumer.js';

/** NODE_VERIFY_THREADS: the same outcomes with verification on worker threads. */
describe('heartbeat verification on worker threads', () => {
  let t: TestApp;
  let consumer: NodesConsumer;
  let nats: NatsService;
  const nodes: SimulatedNode[] = [];

  beforeAll(async () => {
    t = await startTestApp({ overrides: { NODE_VERIFY_THREADS: '2' } });
    consumer = t.app.get(NodesConsumer);
    nats = t.app.get(NatsService);
    const provider = await signUp(t.http);
    await t.http.post(`/v1/orgs/${provider.orgId}/provider`, {}, provider.accessToken);
    for (let i = 0; i < 3; i += 1) {
      const token = (await t.http.post('/v1/provider/nodes/join-tokens', {}, provider.accessToken)).body.token;
      const node = new SimulatedNode(nats.prefix);
      node.nodeId = (await t.http.post('/v1/provider/nodes/join', node.joinRequest(token))).body.nodeId;
      nodes.push(node);
    }
  });
  afterAll(() => t?.close());

  it('accepts genuine heartbeats, refuses forged ones and drops stale seq', async () => {
    const [a, b, c] = nodes as [SimulatedNode, SimulatedNode, SimulatedNode];
    for (let round = 0; round < 20; round += 1) {
      for (const node of nodes) nats.connection.publish(node.subject, node.encode(node.heartbeat()));
    }
    await expectEventually(() => nodes.every((node) => consumer.live(node.nodeId)?.lastSeq === 20 && consumer.liveState(node.nodeId) === 'online'));

    const before = await consumer.rejectedCount('wrong_signer');
    nats.connection.publish(a.subject, b.encode({ ...a.heartbeat({ seq: 500, state: 'draining' }) }, a.subject));
    await expectEventually(async () => (await consumer.rejectedCount('wrong_signer')) === before + 1);
    expect(consumer.live(a.nodeId)?.lastSeq).toBe(20);

    nats.connection.publish(c.subject, c.encode(c.heartbeat({ seq: 5, state: 'draining' })));
    nats.connection.publish(c.subject, c.encode(c.heartbeat({ seq: 21 })));
    await expectEventually(() => consumer.live(c.nodeId)?.lastSeq === 21);
    expect(consumer.live(c.nodeId)?.agentState).toBe('active');
  });
});
