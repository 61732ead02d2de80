import { lookupGpu } from '@anneal/benchmarks';
import {
  assignStreamSpec,
  attemptEventsStreamSpec,
  allAttemptEventsSubject,
  attemptEventSchema,
  CommunityProvider,
  createNodeKeys,
  openSignedMessage,
  toStreamConfig,
  type AttemptEvent,
  type CommunityNode,
  type CommunityNodeSource,
} from '@anneal/providers';
import { expectEventually, natsTestUrl, uniquePrefix } from '@anneal/test/support';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HeartbeatSequence, memorySeqStore } from '../config/seq-store.js';
import { parseSimulateSpec } from '../gpu/simulated-gpus.js';
import { WiringCheckRunner } from '../runner/wiring-check.runner.js';
import { buildAssignment } from '../testing/agent-fixtures.js';
import { simulatedGpuSource } from './gpu-source.js';
import { NodeAgent } from './node-agent.js';

/**
 * Contract check across the boundary: the API's community adapter (libs/providers) talking to the
 * real anneal-agent over real NATS, through the shared protocol.
 */
describe('community adapter ↔ anneal-agent', () => {
  const platform = createNodeKeys();
  const node = createNodeKeys();
  const nodeId = `node-${uniquePrefix('c')}`;
  let prefix: string;
  let api: NatsConnection;
  let agent: NodeAgent;
  const events: AttemptEvent[] = [];

  const communityNode: CommunityNode = {
    nodeId,
    publicKey: node.publicKey,
    region: 'eu-west',
    gpuModelId: 'rtx-4090',
    gpuName: 'NVIDIA GeForce RTX 4090',
    gpuCount: 2,
    vramGb: 24,
    priceMicrosPerGpuHour: 450_000n,
    reliability: 0.95,
    simulated: true,
    listed: true,
    state: 'online',
    reservedForAttemptId: null,
    runningAttempt: null,
  };
  const nodes: CommunityNodeSource = { listNodes: async () => [communityNode], getNode: async (id) => (id === nodeId ? communityNode : null) };

  beforeEach(async () => {
    prefix = `${uniquePrefix('contract')}.`;
    api = await connect({ servers: natsTestUrl() });
    const jsm = await jetstreamManager(api);
    for (const spec of [assignStreamSpec(prefix), attemptEventsStreamSpec(prefix)]) await jsm.streams.add(toStreamConfig(spec));
    api.subscribe(allAttemptEventsSubject(prefix), {
      callback: (_error, msg) => {
        const opened = openSignedMessage(attemptEventSchema, msg.subject, msg.data, node.publicKey);
        if (opened.ok) events.push(opened.value);
      },
    });
    agent = new NodeAgent({
      identity: { nodeId, nkeySeed: node.seed, natsUrl: natsTestUrl(), natsAuth: { kind: 'none' }, subjectPrefix: prefix, apiPublicKey: platform.publicKey },
      gpus: simulatedGpuSource(parseSimulateSpec('2x RTX 4090', lookupGpu)),
      sequence: new HeartbeatSequence(memorySeqStore(), Date.now()),
      runnerFor: () => new WiringCheckRunner({ maxSteps: 1000, stepDelayMs: 60_000 }),
      agentVersion: '0.1.0-test',
      heartbeatIntervalMs: 200,
      drainTimeoutMs: 500,
    });
    agent.start();
    await agent.whenConnected();
  });

  afterEach(async () => {
    await agent.shutdown();
    const jsm = await jetstreamManager(api);
    for (const spec of [assignStreamSpec(prefix), attemptEventsStreamSpec(prefix)]) await jsm.streams.delete(spec.name).catch(() => false);
    await api.close();
  });

  it('provisions on the node (accepted) and terminates it (finished: canceled)', async () => {
    const provider = new CommunityProvider({ subjectPrefix: prefix, platformSeed: platform.seed, ackTimeoutMs: 10_000 }, { nats: api, nodes });
    const { offers } = await provider.listOffers();
    expect(offers).toHaveLength(1);
    const attemptId = `att-${uniquePrefix('a')}`;
    const instance = await provider.provision({ attemptId, offerId: offers[0]!.offerId, assignment: buildAssignment(nodeId, attemptId) });
    expect(instance).toMatchObject({ providerKind: 'community', status: 'provisioning' });
    await expectEventually(() => expect(agent.currentAttemptId()).toBe(attemptId));
    await provider.terminate(instance.instanceId, { reason: 'user_canceled' });
    await expectEventually(() => expect(events.filter((event) => event.attemptId === attemptId).at(-1)).toMatchObject({ type: 'finished', exitReason: 'canceled', cancelReason: 'user_canceled' }));
    expect(agent.currentAttemptId()).toBeNull();
  });
});
