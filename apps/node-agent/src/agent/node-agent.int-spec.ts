import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupGpu } from '@anneal/benchmarks';
import {
  allAttemptEventsSubject,
  allHeartbeatsSubject,
  assignStreamSpec,
  assignSubject,
  attemptEventSchema,
  attemptEventsStreamSpec,
  controlSubject,
  createNodeKeys,
  encodeSignedMessage,
  heartbeatSchema,
  nodeIdFromSubject,
  openSignedMessage,
  type AttemptEvent,
  type ControlMessage,
  type Heartbeat,
  type NodeKeys,
  type ProtocolStreamSpec,
} from '@anneal/providers';
import { expectEventually, freePort, natsTestUrl, uniquePrefix } from '@anneal/test/support';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memorySeqStore, HeartbeatSequence } from '../config/seq-store.js';
import { parseSimulateSpec } from '../gpu/simulated-gpus.js';
import type { Runner } from '../runner/runner.js';
import { WiringCheckRunner } from '../runner/wiring-check.runner.js';
import { buildAssignment } from '../testing/agent-fixtures.js';
import { simulatedGpuSource } from './gpu-source.js';
import { NodeAgent } from './node-agent.js';

const HEARTBEAT_MS = 100;
const apiKeys = createNodeKeys();

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

/** What a stand-in for the API sees: verified heartbeats and attempt events. */
class ApiObserver {
  readonly heartbeats: Array<Heartbeat & { receivedAtMs: number }> = [];
  readonly events: AttemptEvent[] = [];
  readonly refused: string[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly nodeKeys: Map<string, string>,
  ) {
    nc.subscribe(allHeartbeatsSubject(prefix), {
      callback: (_error, msg) => {
        const nodeId = nodeIdFromSubject(prefix, msg.subject, 'heartbeat');
        const key = nodeId ? this.nodeKeys.get(nodeId) : undefined;
        const opened = key ? openSignedMessage(heartbeatSchema, msg.subject, msg.data, key) : null;
        if (opened?.ok) this.heartbeats.push({ ...opened.value, receivedAtMs: Date.now() });
        else this.refused.push(opened ? opened.error.code : 'unknown_node');
      },
    });
    nc.subscribe(allAttemptEventsSubject(prefix), {
      callback: (_error, msg) => {
        const opened = openSignedMessage(attemptEventSchema, msg.subject, msg.data, [...this.nodeKeys.values()][0]!);
        if (opened.ok) this.events.push(opened.value);
        else this.refused.push(opened.error.code);
      },
    });
  }

  eventsOf(attemptId: string): AttemptEvent[] {
    return this.events.filter((event) => event.attemptId === attemptId);
  }

  async assign(nodeId: string, attemptId: string, signer: string = apiKeys.seed, options: Parameters<typeof buildAssignment>[2] = {}): Promise<void> {
    const subject = assignSubject(this.prefix, nodeId);
    await jetstream(this.nc).publish(subject, encodeSignedMessage(signer, subject, buildAssignment(nodeId, attemptId, options)));
  }

  control(nodeId: string, message: { type: 'cancel'; attemptId: string; reason: Extract<ControlMessage, { type: 'cancel' }>['reason'] } | { type: 'drain'; reason: string | null }): void {
    const subject = controlSubject(this.prefix, nodeId);
    this.nc.publish(subject, encodeSignedMessage(apiKeys.seed, subject, { schemaVersion: 1, nodeId, issuedAt: new Date().toISOString(), ...message }));
  }
}

interface Harness {
  agent: NodeAgent;
  observer: ApiObserver;
  nodeId: string;
  node: NodeKeys;
}

const cleanups: Array<() => Promise<unknown>> = [];

async function setup(natsUrl: string, runner: Runner | null, options: { drainTimeoutMs?: number; withStreams?: boolean; reconnectInitialMs?: number } = {}): Promise<Harness> {
  const prefix = `${uniquePrefix('agent')}.`;
  const nodeId = `node-${uniquePrefix('n')}`;
  const node = createNodeKeys();
  const api = await connect({ servers: natsUrl, reconnectTimeWait: 20, reconnectJitter: 0, maxReconnectAttempts: -1 });
  const specs = options.withStreams === false ? [] : [assignStreamSpec(prefix), attemptEventsStreamSpec(prefix)];
  const jsm = await jetstreamManager(api);
  for (const spec of specs) await jsm.streams.add(streamConfig(spec));
  cleanups.push(async () => {
    for (const spec of specs) await jsm.streams.delete(spec.name).catch(() => false);
    await api.close();
  });
  const observer = new ApiObserver(api, prefix, new Map([[nodeId, node.publicKey]]));
  await api.flush();
  const agent = new NodeAgent({
    identity: { nodeId, nkeySeed: node.seed, natsUrl, natsAuth: { kind: 'none' }, subjectPrefix: prefix, apiPublicKey: apiKeys.publicKey },
    gpus: simulatedGpuSource(parseSimulateSpec('2x RTX 4090', lookupGpu)),
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

describe('anneal-agent daemon against real NATS', () => {
  it('publishes signed heartbeats with increasing seq, simulated telemetry and no attempt', async () => {
    const { observer, nodeId } = await setup(natsTestUrl(), null);
    await expectEventually(() => expect(observer.heartbeats.length).toBeGreaterThanOrEqual(4));
    const seqs = observer.heartbeats.map((heartbeat) => heartbeat.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(observer.heartbeats[0]).toMatchObject({ nodeId, simulated: true, state: 'active', runningAttempt: null, agentVersion: '0.1.0-test' });
    expect(observer.heartbeats[0]!.gpus.map((gpu) => gpu.gpuId)).toEqual(['rtx-4090', 'rtx-4090']);
    expect(observer.refused).toEqual([]);
  });

  it('acknowledges an assignment with `accepted`, then reports started, steps and finished', async () => {
    const { observer, nodeId, agent } = await setup(natsTestUrl(), new WiringCheckRunner({ maxSteps: 3, stepDelayMs: 20 }));
    await observer.assign(nodeId, 'att-ok');
    await expectEventually(() => expect(observer.eventsOf('att-ok').map((event) => event.type)).toContain('finished'));
    const events = observer.eventsOf('att-ok');
    expect(events.map((event) => event.type)).toEqual(['accepted', 'started', 'log', 'step', 'step', 'step', 'finished']);
    expect(events.map((event) => event.eventSeq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events[1]).toMatchObject({ runnerName: 'wiring-check', runnerKind: 'synthetic', gpuIndices: [0, 1], totalSteps: 3 });
    expect(events.at(-1)).toMatchObject({ exitReason: 'completed', cancelReason: null, finalMetrics: { steps: 3 }, artifactKeys: [] });
    // A heartbeat showed the attempt while it ran, and the node is free again.
    expect(observer.heartbeats.some((heartbeat) => heartbeat.runningAttempt?.attemptId === 'att-ok')).toBe(true);
    await expectEventually(() => expect(agent.currentAttemptId()).toBeNull());
  });

  it('stops the attempt on a cancel control message', async () => {
    const { observer, nodeId, agent } = await setup(natsTestUrl(), new WiringCheckRunner({ maxSteps: 1000, stepDelayMs: 60_000 }));
    await observer.assign(nodeId, 'att-cancel');
    await expectEventually(() => expect(observer.eventsOf('att-cancel').map((event) => event.type)).toContain('started'));
    observer.control(nodeId, { type: 'cancel', attemptId: 'att-cancel', reason: 'user_canceled' });
    await expectEventually(() => expect(observer.eventsOf('att-cancel').map((event) => event.type)).toContain('finished'), 5_000);
    expect(observer.eventsOf('att-cancel').at(-1)).toMatchObject({ type: 'finished', exitReason: 'canceled', cancelReason: 'user_canceled' });
    expect(agent.currentAttemptId()).toBeNull();
  });

  it('ignores assignments and controls not signed by the platform key, and rejects work while busy', async () => {
    const { observer, nodeId, node, agent } = await setup(natsTestUrl(), new WiringCheckRunner({ maxSteps: 1000, stepDelayMs: 60_000 }));
    // The node's own key (or any other) cannot forge an assignment.
    await observer.assign(nodeId, 'att-forged', node.seed);
    await observer.assign(nodeId, 'att-real');
    await expectEventually(() => expect(observer.eventsOf('att-real').map((event) => event.type)).toContain('started'));
    expect(observer.eventsOf('att-forged')).toEqual([]);
    // A forged cancel is ignored…
    const subject = controlSubject(observer['prefix'], nodeId);
    observer['nc'].publish(subject, encodeSignedMessage(node.seed, subject, { schemaVersion: 1, type: 'cancel', nodeId, attemptId: 'att-real', reason: 'admin', issuedAt: new Date().toISOString() }));
    // …and a second assignment while busy is rejected so the API can re-match it.
    await observer.assign(nodeId, 'att-second');
    await expectEventually(() => expect(observer.eventsOf('att-second')).toEqual([expect.objectContaining({ type: 'rejected', reason: 'busy' })]));
    expect(agent.currentAttemptId()).toBe('att-real');
  });

  it('rejects assignments it cannot hold: GPUs it does not have, expired ones', async () => {
    const { observer, nodeId } = await setup(natsTestUrl(), new WiringCheckRunner({ maxSteps: 1, stepDelayMs: 1 }));
    await expectEventually(() => expect(observer.heartbeats.length).toBeGreaterThan(0));
    await observer.assign(nodeId, 'att-gpus', apiKeys.seed, { gpuIndices: [0, 5] });
    await observer.assign(nodeId, 'att-expired', apiKeys.seed, { expiresAt: new Date(Date.now() - 1000).toISOString() });
    await expectEventually(() => expect(observer.eventsOf('att-gpus')).toEqual([expect.objectContaining({ type: 'rejected', reason: 'insufficient_gpus' })]));
    await expectEventually(() => expect(observer.eventsOf('att-expired')).toEqual([expect.objectContaining({ type: 'rejected', reason: 'expired' })]));
  });

  it('stops an attempt at its max duration', async () => {
    const { observer, nodeId } = await setup(natsTestUrl(), new WiringCheckRunner({ maxSteps: 1000, stepDelayMs: 60_000 }));
    await observer.assign(nodeId, 'att-long', apiKeys.seed, { maxDurationS: 1 });
    await expectEventually(() => expect(observer.eventsOf('att-long').at(-1)).toMatchObject({ type: 'finished', exitReason: 'max_duration_exceeded' }), 5_000);
  });

  it('on a drain control message reports draining and rejects new assignments', async () => {
    const { observer, nodeId } = await setup(natsTestUrl(), new WiringCheckRunner({ maxSteps: 2, stepDelayMs: 1 }));
    observer.control(nodeId, { type: 'drain', reason: 'maintenance' });
    await expectEventually(() => expect(observer.heartbeats.at(-1)?.state).toBe('draining'));
    await observer.assign(nodeId, 'att-late');
    await expectEventually(() => expect(observer.eventsOf('att-late')).toEqual([expect.objectContaining({ type: 'rejected', reason: 'draining' })]));
  });

  it('on shutdown (SIGTERM) drains: stops the running attempt after the drain timeout, sends a last offline heartbeat', async () => {
    const { observer, nodeId, agent } = await setup(natsTestUrl(), new WiringCheckRunner({ maxSteps: 1000, stepDelayMs: 60_000 }), { drainTimeoutMs: 200 });
    await observer.assign(nodeId, 'att-drain');
    await expectEventually(() => expect(observer.eventsOf('att-drain').map((event) => event.type)).toContain('started'));
    await agent.shutdown();
    await expectEventually(() => expect(observer.heartbeats.at(-1)?.state).toBe('offline'));
    expect(observer.heartbeats.some((heartbeat) => heartbeat.state === 'draining')).toBe(true);
    expect(observer.eventsOf('att-drain').at(-1)).toMatchObject({ type: 'finished', exitReason: 'preempted' });
    const offline = observer.heartbeats.filter((heartbeat) => heartbeat.state === 'offline');
    expect(offline).toHaveLength(1);
    expect(offline[0]!.seq).toBe(Math.max(...observer.heartbeats.map((heartbeat) => heartbeat.seq)));
    expect(agent.isConnected()).toBe(false);
  });
});

describe('anneal-agent daemon across a NATS outage', () => {
  let server: ChildProcess | null = null;
  let port = 0;
  let dataDir = '';

  async function startServer(): Promise<void> {
    const child = spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dataDir], { stdio: 'ignore' });
    server = child;
    await expectEventually(async () => {
      const probe = await connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false });
      await probe.close();
    }, 10_000);
  }

  async function killServer(): Promise<void> {
    const child = server;
    server = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  beforeAll(async () => {
    port = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), 'anneal-agent-nats-'));
    await startServer();
  });

  afterAll(async () => {
    await killServer();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes with a higher seq after the server comes back, without a burst of stale heartbeats', async () => {
    const url = `nats://127.0.0.1:${port}`;
    // The agent reconnects later than the observer (the API stand-in), so the observer is back in
    // time to see anything the agent would flush on reconnect.
    const { observer, agent } = await setup(url, null, { reconnectInitialMs: 400 });
    await expectEventually(() => expect(observer.heartbeats.length).toBeGreaterThanOrEqual(3));
    const seqBefore = Math.max(...observer.heartbeats.map((heartbeat) => heartbeat.seq));

    await killServer();
    const downAtMs = Date.now();
    await expectEventually(() => expect(agent.isConnected()).toBe(false));
    const receivedBefore = observer.heartbeats.length;
    // Let several heartbeat intervals pass while the server is down (the agent counts the ones it drops).
    const skippedAtDown = agent['skippedHeartbeats'] as number;
    await expectEventually(() => expect((agent['skippedHeartbeats'] as number) - skippedAtDown).toBeGreaterThanOrEqual(5));
    const upAtMs = Date.now();
    await startServer();

    await expectEventually(() => expect(observer.heartbeats.length).toBeGreaterThanOrEqual(receivedBefore + 4), 20_000);
    const after = observer.heartbeats.slice(receivedBefore);
    expect(after[0]!.seq).toBeGreaterThan(seqBefore);
    // Heartbeats composed while the server was down were dropped, not queued and flushed on reconnect:
    // at most one raced the disconnect notice.
    const composedWhileDown = after.filter((heartbeat) => Date.parse(heartbeat.sentAt) > downAtMs + HEARTBEAT_MS && Date.parse(heartbeat.sentAt) < upAtMs);
    expect(composedWhileDown).toEqual([]);
    expect(after.filter((heartbeat) => Date.parse(heartbeat.sentAt) < upAtMs).length).toBeLessThanOrEqual(1);
    const seqs = after.map((heartbeat) => heartbeat.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});
