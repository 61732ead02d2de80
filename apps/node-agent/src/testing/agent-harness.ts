import { lookupGpu } from '@anneal/benchmarks';
import {
  allAttemptEventsSubject,
  allHeartbeatsSubject,
  assignStreamSpec,
  assignSubject,
  attemptEventSchema,
  attemptEventsStreamSpec,
  controlSubject,
  createHeartbeatKey,
  createNodeKeys,
  encodeSignedMessage,
  heartbeatKeyBytes,
  heartbeatSchema,
  nodeIdFromSubject,
  openMacMessage,
  openSignedMessage,
  parseHeartbeat,
  type Assignment,
  type AttemptEvent,
  type ControlMessage,
  type Heartbeat,
  type NodeKeys,
  type ProtocolStreamSpec,
} from '@anneal/providers';
import { uniquePrefix } from '@anneal/test/support';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterEach } from 'vitest';
import { memorySeqStore, HeartbeatSequence } from '../config/seq-store.js';
import { parseSimulateSpec } from '../gpu/simulated-gpus.js';
import type { Runner } from '../runner/runner.js';
import { buildAssignment } from './agent-fixtures.js';
import { simulatedGpuSource } from '../agent/gpu-source.js';
import { NodeAgent } from '../agent/node-agent.js';

/**
 * Integration-test harness: a stand-in for the API on real NATS (its own subject prefix and
 * streams), and a NodeAgent on a simulated node wired to it. Cleans up after each test.
 */
export const HEARTBEAT_MS = 100;
export const apiKeys = createNodeKeys();

function streamConfig(spec: ProtocolStreamSpec) {
  return {
    name: spec.name,
    subjects: spec.subjects,
    retention: spec.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(spec.maxAgeMs),
    duplicate_window: nanos(spec.duplicateWindowMs),
  };
}

/** What the API holds for a node: its nkey public key, and its heartbeat key (null: heartbeats are nkey-signed). */
export interface ObservedNode {
  publicKey: string;
  heartbeatKey: string | null;
}

/** What a stand-in for the API sees: authenticated heartbeats (and how: MAC or signature) and verified attempt events. */
export class ApiObserver {
  readonly heartbeats: Array<Heartbeat & { receivedAtMs: number; auth: 'mac' | 'signature' }> = [];
  readonly events: AttemptEvent[] = [];
  readonly refused: string[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly nodes: Map<string, ObservedNode>,
  ) {
    nc.subscribe(allHeartbeatsSubject(prefix), {
      callback: (_error, msg) => {
        const nodeId = nodeIdFromSubject(prefix, msg.subject, 'heartbeat');
        const node = nodeId ? this.nodes.get(nodeId) : undefined;
        if (!node) return void this.refused.push('unknown_node');
        const opened = node.heartbeatKey ? openHeartbeatWithMac(msg.subject, msg.data, node.heartbeatKey) : openSignedMessage(heartbeatSchema, msg.subject, msg.data, node.publicKey);
        if (opened.ok) this.heartbeats.push({ ...opened.value, receivedAtMs: Date.now(), auth: node.heartbeatKey ? 'mac' : 'signature' });
        else this.refused.push(opened.error.code);
      },
    });
    nc.subscribe(allAttemptEventsSubject(prefix), {
      callback: (_error, msg) => {
        const opened = openSignedMessage(attemptEventSchema, msg.subject, msg.data, [...this.nodes.values()][0]!.publicKey);
        if (opened.ok) this.events.push(opened.value);
        else this.refused.push(opened.error.code);
      },
    });
  }

  eventsOf(attemptId: string): AttemptEvent[] {
    return this.events.filter((event) => event.attemptId === attemptId);
  }

  async assign(nodeId: string, attemptId: string, signer: string = apiKeys.seed, options: Parameters<typeof buildAssignment>[2] = {}): Promise<void> {
    await this.assignFull(buildAssignment(nodeId, attemptId, options), signer);
  }

  /** Publishes a complete assignment, signed like the API signs it. */
  async assignFull(assignment: Assignment, signer: string = apiKeys.seed): Promise<void> {
    const subject = assignSubject(this.prefix, assignment.nodeId);
    await jetstream(this.nc).publish(subject, encodeSignedMessage(signer, subject, assignment));
  }

  control(nodeId: string, message: { type: 'cancel'; attemptId: string; reason: Extract<ControlMessage, { type: 'cancel' }>['reason'] } | { type: 'drain'; reason: string | null }): void {
    const subject = controlSubject(this.prefix, nodeId);
    this.nc.publish(subject, encodeSignedMessage(apiKeys.seed, subject, { schemaVersion: 1, nodeId, issuedAt: new Date().toISOString(), ...message }));
  }
}

/** A MACed heartbeat, checked as the API does: MAC, then the heartbeat's rules. */
export function openHeartbeatWithMac(subject: string, data: Uint8Array, heartbeatKey: string) {
  const payload = openMacMessage(subject, data, heartbeatKeyBytes(heartbeatKey));
  return payload.ok ? parseHeartbeat(payload.value) : payload;
}

export interface Harness {
  agent: NodeAgent;
  observer: ApiObserver;
  nodeId: string;
  node: NodeKeys;
}

const cleanups: Array<() => Promise<unknown>> = [];

export async function setup(
  natsUrl: string,
  runner: Runner | null,
  options: { drainTimeoutMs?: number; withStreams?: boolean; reconnectInitialMs?: number; simulate?: string; /** Registered before heartbeat keys: no key, heartbeats signed. */ withoutHeartbeatKey?: boolean; /** The API the agent asks for presigned URLs. */ apiUrl?: string } = {},
): Promise<Harness> {
  const prefix = `${uniquePrefix('agent')}.`;
  const nodeId = `node-${uniquePrefix('n')}`;
  const node = createNodeKeys();
  const heartbeatKey = options.withoutHeartbeatKey ? null : createHeartbeatKey();
  const api = await connect({ servers: natsUrl, reconnectTimeWait: 20, reconnectJitter: 0, maxReconnectAttempts: -1 });
  const specs = options.withStreams === false ? [] : [assignStreamSpec(prefix), attemptEventsStreamSpec(prefix)];
  const jsm = await jetstreamManager(api);
  for (const spec of specs) await jsm.streams.add(streamConfig(spec));
  cleanups.push(async () => {
    for (const spec of specs) await jsm.streams.delete(spec.name).catch(() => false);
    await api.close();
  });
  const observer = new ApiObserver(api, prefix, new Map([[nodeId, { publicKey: node.publicKey, heartbeatKey }]]));
  await api.flush();
  const agent = new NodeAgent({
    identity: { nodeId, nkeySeed: node.seed, heartbeatKey, natsUrl, natsAuth: { kind: 'none' }, subjectPrefix: prefix, apiPublicKey: apiKeys.publicKey, ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}) },
    gpus: simulatedGpuSource(parseSimulateSpec(options.simulate ?? '2x RTX 4090', lookupGpu)),
    sequence: new HeartbeatSequence(memorySeqStore(), Date.now()),
    runnerFor: () => runner,
    agentVersion: '0.1.0-test',
    heartbeatIntervalMs: HEARTBEAT_MS,
    drainTimeoutMs: options.drainTimeoutMs ?? 1_000,
    reconnectInitialMs: options.reconnectInitialMs ?? 50,
    reconnectMaxMs: (options.reconnectInitialMs ?? 50) * 2,
  });
  cleanups.unshift(() => agent.shutdown());
  agent.start();
  await agent.whenConnected();
  return { agent, observer, nodeId, node };
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

