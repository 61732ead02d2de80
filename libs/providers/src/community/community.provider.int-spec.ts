import { inspect } from 'node:util';
import { AckPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { expectEventually, natsTestUrl, uniquePrefix } from '@anneal/test/support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NoCapacityError, NotFoundError, ProviderError, ProvisioningError } from '../port/provider.errors.js';
import { CommunityProvider } from './community.provider.js';
import { toStreamConfig } from './community.streams.js';
import type { CommunityNode, CommunityNodeSource } from './community.types.js';
import {
  assignConsumerName,
  assignmentSchema,
  assignStreamSpec,
  attemptEventMsgId,
  attemptEventsStreamSpec,
  attemptEventsSubject,
  assignSubject,
  controlMessageSchema,
  controlSubject,
  createNodeKeys,
  encodeSignedMessage,
  openSignedMessage,
  type Assignment,
  type ControlMessage,
  type NodeKeys,
} from './protocol/index.js';
import { assignmentFixture } from './protocol/testing/protocol-fixtures.js';

const platform = createNodeKeys();
let nc: NatsConnection;
let jsm: JetStreamManager;
let prefix: string;
let attemptCounter = 0;
const stops: Array<() => Promise<unknown> | unknown> = [];

function nextAttemptId(): string {
  attemptCounter += 1;
  return `0193a0c9-0000-7000-8000-${String(attemptCounter).padStart(12, '0')}`;
}

function node(overrides: Partial<CommunityNode> & { nodeId: string; publicKey: string }): CommunityNode {
  return {
    region: 'eu-west',
    gpuModelId: 'rtx-4090',
    gpuName: 'NVIDIA GeForce RTX 4090',
    gpuCount: 2,
    vramGb: 24,
    priceMicrosPerGpuHour: 450_000n,
    reliability: 0.95,
    simulated: false,
    listed: true,
    state: 'online',
    reservedForAttemptId: null,
    runningAttempt: null,
    ...overrides,
  };
}

class MemoryNodes implements CommunityNodeSource {
  readonly nodes = new Map<string, CommunityNode>();
  add(...nodes: CommunityNode[]): this {
    for (const n of nodes) this.nodes.set(n.nodeId, n);
    return this;
  }
  async listNodes(): Promise<CommunityNode[]> {
    return [...this.nodes.values()];
  }
  async getNode(nodeId: string): Promise<CommunityNode | null> {
    return this.nodes.get(nodeId) ?? null;
  }
}

type AgentBehaviour = 'accept' | 'reject-busy' | 'silent' | 'accept-with-wrong-key';

/** A fake anneal-agent: reads its durable assign consumer, checks the platform signature, answers on the attempt events subject. */
async function startFakeAgent(nodeId: string, keys: NodeKeys, behaviour: AgentBehaviour): Promise<{ received: Assignment[] }> {
  const received: Assignment[] = [];
  const stream = assignStreamSpec(prefix).name;
  const subject = assignSubject(prefix, nodeId);
  await jsm.consumers.add(stream, { durable_name: assignConsumerName(nodeId), filter_subject: subject, ack_policy: AckPolicy.Explicit });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, assignConsumerName(nodeId));
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 4 });
  stops.push(() => messages.stop());
  void (async () => {
    for await (const message of messages) {
      const opened = openSignedMessage(assignmentSchema, message.subject, message.data, platform.publicKey);
      if (!opened.ok) {
        message.term();
        continue;
      }
      received.push(opened.value);
      if (behaviour === 'silent') continue;
      const attemptId = opened.value.attempt.attemptId;
      const eventsSubject = attemptEventsSubject(prefix, attemptId);
      const base = { schemaVersion: 1 as const, attemptId, nodeId, eventSeq: 0, at: new Date().toISOString() };
      const event =
        behaviour === 'reject-busy'
          ? { ...base, type: 'rejected' as const, reason: 'busy' as const, message: 'already running another attempt' }
          : { ...base, type: 'accepted' as const };
      const signer = behaviour === 'accept-with-wrong-key' ? createNodeKeys().seed : keys.seed;
      await js.publish(eventsSubject, encodeSignedMessage(signer, eventsSubject, event), { msgID: attemptEventMsgId(attemptId, 0) });
      message.ack();
    }
  })();
  return { received };
}

function provider(nodes: CommunityNodeSource, ackTimeoutMs = 5_000): CommunityProvider {
  return new CommunityProvider({ subjectPrefix: prefix, platformSeed: platform.seed, ackTimeoutMs }, { nats: nc, nodes });
}

async function caught(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a provider error');
}

function assignmentFor(nodeId: string, attemptId: string): Assignment {
  const fixture = assignmentFixture();
  return { ...fixture, nodeId, attempt: { ...fixture.attempt, attemptId } };
}

beforeAll(async () => {
  nc = await connect({ servers: natsTestUrl() });
  jsm = await jetstreamManager(nc);
  prefix = `${uniquePrefix('community')}.`;
  for (const spec of [assignStreamSpec(prefix), attemptEventsStreamSpec(prefix)]) await jsm.streams.add(toStreamConfig(spec));
});

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

afterAll(async () => {
  for (const spec of [assignStreamSpec(prefix), attemptEventsStreamSpec(prefix)]) await jsm.streams.delete(spec.name).catch(() => false);
  await nc.close();
});

describe('CommunityProvider.listOffers', () => {
  it('offers only listed, online, unreserved nodes and reports GPUs outside the catalog', async () => {
    const keys = createNodeKeys();
    const nodes = new MemoryNodes().add(
      node({ nodeId: 'n-free', publicKey: keys.publicKey }),
      node({ nodeId: 'n-sim', publicKey: keys.publicKey, simulated: true, gpuModelId: 'a100-80gb-sxm', vramGb: 80, gpuCount: 1 }),
      node({ nodeId: 'n-offline', publicKey: keys.publicKey, state: 'offline' }),
      node({ nodeId: 'n-draining', publicKey: keys.publicKey, state: 'draining' }),
      node({ nodeId: 'n-reserved', publicKey: keys.publicKey, reservedForAttemptId: 'a1' }),
      node({ nodeId: 'n-unlisted', publicKey: keys.publicKey, listed: false }),
      node({ nodeId: 'n-odd', publicKey: keys.publicKey, gpuModelId: null, gpuName: 'NVIDIA GeForce RTX 5090' }),
    );
    const { offers, skipped } = await provider(nodes).listOffers();
    expect(offers.map((o) => o.offerId)).toEqual(['community:n-free', 'community:n-sim']);
    expect(offers[0]).toEqual({
      providerKind: 'community',
      offerId: 'community:n-free',
      offerType: 'machine',
      gpuModelId: 'rtx-4090',
      gpuCount: 2,
      vramGb: 24,
      region: 'eu-west',
      zone: null,
      priceMicrosPerGpuHour: 450_000n,
      spot: false,
      reliability: 0.95,
      availability: 'available',
      simulated: false,
    });
    expect(offers[1]?.simulated).toBe(true);
    expect(skipped).toEqual([{ providerKind: 'community', providerGpuName: 'NVIDIA GeForce RTX 5090', reason: expect.stringContaining('n-odd') }]);
    expect((await provider(nodes).listOffers({ minVramGb: 40 })).offers.map((o) => o.offerId)).toEqual(['community:n-sim']);
  });
});

describe('CommunityProvider.provision over real NATS JetStream', () => {
  it('delivers the signed assignment and resolves when the agent acknowledges', async () => {
    const keys = createNodeKeys();
    const nodeId = `n-${uniquePrefix('ok')}`;
    const nodes = new MemoryNodes().add(node({ nodeId, publicKey: keys.publicKey }));
    const agent = await startFakeAgent(nodeId, keys, 'accept');
    const attemptId = nextAttemptId();
    const instance = await provider(nodes).provision({ attemptId, offerId: `community:${nodeId}`, assignment: assignmentFor(nodeId, attemptId) });
    expect(instance).toEqual({
      providerKind: 'community',
      instanceId: `${nodeId}/${attemptId}`,
      offerId: `community:${nodeId}`,
      region: 'eu-west',
      zone: null,
      status: 'provisioning',
    });
    expect(agent.received.map((a) => a.attempt.attemptId)).toEqual([attemptId]);

    nodes.add(node({ nodeId, publicKey: keys.publicKey, reservedForAttemptId: attemptId }));
    expect((await provider(nodes).getStatus(instance.instanceId)).status).toBe('provisioning');
    nodes.add(node({ nodeId, publicKey: keys.publicKey, reservedForAttemptId: attemptId, runningAttempt: { attemptId, phase: 'running' } }));
    expect((await provider(nodes).getStatus(instance.instanceId)).status).toBe('running');
    nodes.add(node({ nodeId, publicKey: keys.publicKey }));
    expect((await provider(nodes).getStatus(instance.instanceId)).status).toBe('terminated');
  });

  it('fails with ProvisioningError when no acknowledgement comes in time, and withdraws the assignment', async () => {
    const keys = createNodeKeys();
    const nodeId = `n-${uniquePrefix('silent')}`;
    const nodes = new MemoryNodes().add(node({ nodeId, publicKey: keys.publicKey }));
    const cancels: ControlMessage[] = [];
    const sub = nc.subscribe(controlSubject(prefix, nodeId), {
      callback: (_error, message) => {
        const opened = openSignedMessage(controlMessageSchema, message.subject, message.data, platform.publicKey);
        if (opened.ok) cancels.push(opened.value);
      },
    });
    stops.push(() => sub.unsubscribe());
    await nc.flush();
    const attemptId = nextAttemptId();
    const error = await caught(provider(nodes, 400).provision({ attemptId, offerId: `community:${nodeId}`, assignment: assignmentFor(nodeId, attemptId) }));
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error.message).toBe(`Community eu-west: node ${nodeId} did not acknowledge the assignment within 0.4 s`);
    expect(error.retryable).toBe(true);
    await expectEventually(() => expect(cancels).toEqual([expect.objectContaining({ type: 'cancel', nodeId, attemptId, reason: 'rescheduled' })]));
    // The unclaimed assignment left the workqueue: a node that comes up later finds nothing.
    const info = await jsm.streams.info(assignStreamSpec(prefix).name, { subjects_filter: assignSubject(prefix, nodeId) });
    expect(info.state.subjects?.[assignSubject(prefix, nodeId)] ?? 0).toBe(0);
  });

  it('ignores an acknowledgement signed by a key other than the node’s', async () => {
    const keys = createNodeKeys();
    const nodeId = `n-${uniquePrefix('spoof')}`;
    const nodes = new MemoryNodes().add(node({ nodeId, publicKey: keys.publicKey }));
    const agent = await startFakeAgent(nodeId, keys, 'accept-with-wrong-key');
    const attemptId = nextAttemptId();
    const error = await caught(provider(nodes, 600).provision({ attemptId, offerId: `community:${nodeId}`, assignment: assignmentFor(nodeId, attemptId) }));
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(agent.received).toHaveLength(1);
  });

  it('maps a busy rejection to NoCapacityError', async () => {
    const keys = createNodeKeys();
    const nodeId = `n-${uniquePrefix('busy')}`;
    const nodes = new MemoryNodes().add(node({ nodeId, publicKey: keys.publicKey }));
    await startFakeAgent(nodeId, keys, 'reject-busy');
    const attemptId = nextAttemptId();
    const error = await caught(provider(nodes).provision({ attemptId, offerId: `community:${nodeId}`, assignment: assignmentFor(nodeId, attemptId) }));
    expect(error).toBeInstanceOf(NoCapacityError);
    expect(error.message).toContain('rejected the assignment (busy: already running another attempt)');
  });

  it('refuses offline, reserved and unknown nodes and mismatched assignments without publishing', async () => {
    const keys = createNodeKeys();
    const nodes = new MemoryNodes().add(
      node({ nodeId: 'n-off', publicKey: keys.publicKey, state: 'offline' }),
      node({ nodeId: 'n-held', publicKey: keys.publicKey, reservedForAttemptId: 'someone-else' }),
      node({ nodeId: 'n-ok', publicKey: keys.publicKey }),
    );
    const attemptId = nextAttemptId();
    const p = provider(nodes, 300);
    expect(await caught(p.provision({ attemptId, offerId: 'community:n-off', assignment: assignmentFor('n-off', attemptId) }))).toBeInstanceOf(NoCapacityError);
    expect(await caught(p.provision({ attemptId, offerId: 'community:n-held', assignment: assignmentFor('n-held', attemptId) }))).toBeInstanceOf(NoCapacityError);
    expect(await caught(p.provision({ attemptId, offerId: 'community:n-none', assignment: assignmentFor('n-none', attemptId) }))).toBeInstanceOf(NotFoundError);
    expect(await caught(p.provision({ attemptId, offerId: 'community:n-ok', assignment: assignmentFor('n-other', attemptId) }))).toBeInstanceOf(ProvisioningError);
    expect(await caught(p.provision({ attemptId, offerId: 'community:n-ok', assignment: { nonsense: true } }))).toBeInstanceOf(ProvisioningError);
    const info = await jsm.streams.info(assignStreamSpec(prefix).name, { subjects_filter: `${prefix}anneal.nodes.n-*.assign` });
    expect(Object.keys(info.state.subjects ?? {})).toEqual([]);
  });
});

describe('CommunityProvider.terminate', () => {
  it('sends a cancel signed by the platform key on the node’s control subject', async () => {
    const nodeId = `n-${uniquePrefix('cancel')}`;
    const received: ControlMessage[] = [];
    const sub = nc.subscribe(controlSubject(prefix, nodeId), {
      callback: (_error, message) => {
        const opened = openSignedMessage(controlMessageSchema, message.subject, message.data, platform.publicKey);
        if (opened.ok) received.push(opened.value);
      },
    });
    stops.push(() => sub.unsubscribe());
    await nc.flush();
    const attemptId = nextAttemptId();
    await provider(new MemoryNodes()).terminate(`${nodeId}/${attemptId}`, { reason: 'user_canceled' });
    await expectEventually(() => expect(received).toEqual([expect.objectContaining({ type: 'cancel', nodeId, attemptId, reason: 'user_canceled' })]));
  });

  it('never prints the platform seed', () => {
    const p = provider(new MemoryNodes());
    for (const printed of [String(p), JSON.stringify(p), inspect(p, { depth: 10, showHidden: true })]) expect(printed).not.toContain(platform.seed);
  });
});
