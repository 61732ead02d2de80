import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlSubject, encodeSignedMessage } from '@anneal/providers';
import { expectEventually, freePort, natsTestUrl } from '@anneal/test/support';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WiringCheckRunner } from '../runner/wiring-check.runner.js';
import { apiKeys, HEARTBEAT_MS, setup } from '../testing/agent-harness.js';

describe('anneal-agent daemon against real NATS', () => {
  it('publishes heartbeats MACed with its heartbeat key, with increasing seq, simulated telemetry and no attempt', async () => {
    const { observer, nodeId } = await setup(natsTestUrl(), null);
    await expectEventually(() => expect(observer.heartbeats.length).toBeGreaterThanOrEqual(4));
    const seqs = observer.heartbeats.map((heartbeat) => heartbeat.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(observer.heartbeats[0]).toMatchObject({ nodeId, simulated: true, state: 'active', runningAttempt: null, agentVersion: '0.1.0-test', auth: 'mac' });
    expect(observer.heartbeats[0]!.gpus.map((gpu) => gpu.gpuId)).toEqual(['rtx-4090', 'rtx-4090']);
    expect(observer.refused).toEqual([]);
  });

  it('signs heartbeats with its nkey when registered before heartbeat keys (no key in its credentials)', async () => {
    const { observer } = await setup(natsTestUrl(), null, { withoutHeartbeatKey: true });
    await expectEventually(() => expect(observer.heartbeats.length).toBeGreaterThanOrEqual(2));
    expect(observer.heartbeats.every((heartbeat) => heartbeat.auth === 'signature')).toBe(true);
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
