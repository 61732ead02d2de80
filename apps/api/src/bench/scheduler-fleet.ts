// The scheduler benchmark's simulated community fleet: thousands of node agents over the real NATS,
// in a worker thread of their own so their signing and publishing do not share the API's event loop.
// Each node heartbeats at the protocol's 2 s cadence (MACed with its heartbeat key, with its running attempt), and answers
// every assignment delivered on the JetStream assign stream (one durable consumer with the wildcard
// filter stands for the nodes' own consumers) the way `apps/node-agent` does: it verifies the
// platform's signature, then publishes node-signed `accepted` and `started` events, and after the
// configured run time `finished` (completed), each with the agent's `Nats-Msg-Id`, followed by an
// immediate heartbeat saying it is idle again. An assignment for a node that is still running
// something is a double placement: it is counted and refused with `rejected` (busy), as an agent would.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  assignmentSchema,
  assignStreamSpec,
  allAssignSubject,
  attemptEventMsgId,
  attemptEventsSubject,
  encodeMacMessage,
  encodeSignedMessage,
  heartbeatKeyBytes,
  heartbeatSubject,
  nodeIdFromSubject,
  openSignedMessage,
  type AttemptEvent,
  type Heartbeat,
  type RunningAttempt,
} from '@anneal/providers';

export interface FleetNode {
  nodeId: string;
  publicKey: string;
  /** The node's nkey seed (secret of the simulated agent): signs its attempt events. */
  seed: string;
  /** The node's heartbeat key (secret of the simulated agent): MACs its heartbeats. */
  heartbeatKey: string;
}

export interface FleetOptions {
  natsUrl: string;
  prefix: string;
  nodes: FleetNode[];
  /** The platform's public key: assignments are verified against it, as the agent does. */
  platformPublicKey: string;
  /** How long a simulated attempt trains before `finished`. */
  runMs: number;
  heartbeatIntervalMs?: number;
}

export interface FleetStats {
  assignments: number;
  /** Assignments whose platform signature or schema did not check out. */
  invalidAssignments: number;
  /** Assignments that reached a node already running an attempt (double placements seen by the fleet). */
  busyAssignments: number;
  /** The same attempt delivered twice (JetStream redelivery). */
  redelivered: number;
  accepted: number;
  finished: number;
  heartbeats: number;
  /** Event publishes JetStream did not store (retried). */
  publishRetries: number;
  /** Per job: when its node published `accepted` (epoch ms), the first time. */
  acceptedAtMs: Record<string, number>;
}

type ToWorker = { type: 'stop' };
type FromWorker = { type: 'ready' } | { type: 'stopped'; stats: FleetStats } | { type: 'error'; message: string };

/** The running fleet, seen from the benchmark's main thread. */
export class Fleet {
  private constructor(private readonly worker: Worker) {}

  static async start(options: FleetOptions): Promise<Fleet> {
    const worker = new Worker(new URL(import.meta.url), { workerData: { kind: 'scheduler-fleet', options } });
    const fleet = new Fleet(worker);
    await fleet.next('ready');
    return fleet;
  }

  private next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === 'error') {
          cleanup();
          reject(new Error(`fleet: ${message.message}`));
        } else if (message.type === type) {
          cleanup();
          resolve(message as Extract<FromWorker, { type: T }>);
        }
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const cleanup = () => {
        this.worker.off('message', onMessage);
        this.worker.off('error', onError);
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', onError);
    });
  }

  /** Stops heartbeats and answers, closes the connection; resolves with the counters. */
  async stop(): Promise<FleetStats> {
    const stopped = this.next('stopped');
    this.worker.postMessage({ type: 'stop' } satisfies ToWorker);
    const { stats } = await Promise.race([stopped, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('fleet did not stop within 15 s')), 15_000).unref())]);
    await this.worker.terminate();
    return stats;
  }

  async kill(): Promise<void> {
    await this.worker.terminate();
  }
}

interface SimNode {
  nodeId: string;
  publicKey: string;
  /** The node's nkey seed: it signs its events with it, as the agent does. */
  seed: string;
  heartbeatKey: Buffer;
  heartbeatSubject: string;
  seq: number;
  running: { attemptId: string; jobId: string; startedAt: string } | null;
}

async function runFleet(options: FleetOptions): Promise<void> {
  const port = parentPort!;
  const stats: FleetStats = { assignments: 0, invalidAssignments: 0, busyAssignments: 0, redelivered: 0, accepted: 0, finished: 0, heartbeats: 0, publishRetries: 0, acceptedAtMs: {} };
  const started = Date.now();
  const nodes = new Map<string, SimNode>();
  for (const node of options.nodes) {
    nodes.set(node.nodeId, {
      nodeId: node.nodeId,
      publicKey: node.publicKey,
      seed: node.seed,
      heartbeatKey: heartbeatKeyBytes(node.heartbeatKey),
      heartbeatSubject: heartbeatSubject(options.prefix, node.nodeId),
      seq: 0,
      running: null,
    });
  }
  const list = [...nodes.values()];
  const seenAttempts = new Set<string>();
  const nc: NatsConnection = await connect({ servers: options.natsUrl, name: 'bench-scheduler-fleet' });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  let stopping = false;
  const timers = new Set<NodeJS.Timeout>();

  const beat = (node: SimNode) => {
    node.seq += 1;
    const running: RunningAttempt | null = node.running ? { attemptId: node.running.attemptId, jobId: node.running.jobId, phase: 'running', startedAt: node.running.startedAt, step: 0 } : null;
    const heartbeat: Heartbeat = {
      schemaVersion: 1,
      type: 'heartbeat',
      nodeId: node.nodeId,
      seq: node.seq,
      sentAt: new Date().toISOString(),
      agentVersion: '0.1.0',
      uptimeS: (Date.now() - started) / 1000,
      simulated: true,
      state: 'active',
      gpus: [{ index: 0, name: 'NVIDIA GeForce RTX 4090', gpuId: 'rtx-4090', vramTotalMb: 24564, vramUsedMb: running ? 18000 : 1, utilizationPct: running ? 97 : 0, temperatureC: 60, powerW: 300 }],
      runningAttempt: running,
    };
    nc.publish(node.heartbeatSubject, encodeMacMessage(node.heartbeatKey, node.heartbeatSubject, heartbeat));
    stats.heartbeats += 1;
  };

  // Heartbeats: every node once per interval, spread evenly over it (as independent agents are).
  const interval = options.heartbeatIntervalMs ?? 2_000;
  const slices = 20;
  let slice = 0;
  for (const node of list) beat(node);
  const heartbeats = setInterval(() => {
    const from = Math.floor((slice * list.length) / slices);
    const to = Math.floor(((slice + 1) * list.length) / slices);
    for (let i = from; i < to; i += 1) beat(list[i]!);
    slice = (slice + 1) % slices;
  }, interval / slices);

  const publishEvent = async (node: SimNode, attemptId: string, eventSeq: number, body: Record<string, unknown>) => {
    const event = { schemaVersion: 1, attemptId, nodeId: node.nodeId, eventSeq, at: new Date().toISOString(), ...body } as AttemptEvent;
    const subject = attemptEventsSubject(options.prefix, attemptId);
    const data = encodeSignedMessage(node.seed, subject, event);
    for (let tryNumber = 0; ; tryNumber += 1) {
      try {
        await js.publish(subject, data, { msgID: attemptEventMsgId(attemptId, eventSeq), timeout: 5_000 });
        return;
      } catch (error) {
        stats.publishRetries += 1;
        if (stopping || tryNumber >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };

  const onAssignment = async (message: JsMsg) => {
    const nodeId = nodeIdFromSubject(options.prefix, message.subject, 'assign');
    const node = nodeId ? nodes.get(nodeId) : undefined;
    const opened = openSignedMessage(assignmentSchema, message.subject, message.data, options.platformPublicKey);
    message.ack();
    stats.assignments += 1;
    if (!node || !opened.ok || opened.value.nodeId !== node.nodeId) {
      stats.invalidAssignments += 1;
      return;
    }
    const assignment = opened.value;
    const { attemptId, jobId } = assignment.attempt;
    if (seenAttempts.has(attemptId)) {
      stats.redelivered += 1;
      return;
    }
    seenAttempts.add(attemptId);
    if (node.running) {
      stats.busyAssignments += 1;
      await publishEvent(node, attemptId, 0, { type: 'rejected', reason: 'busy', message: 'This node is already running an attempt.' });
      return;
    }
    node.running = { attemptId, jobId, startedAt: new Date().toISOString() };
    await publishEvent(node, attemptId, 0, { type: 'accepted' });
    stats.accepted += 1;
    stats.acceptedAtMs[jobId] ??= Date.now();
    await publishEvent(node, attemptId, 1, { type: 'started', runnerKind: 'synthetic', runnerName: 'bench-fleet', gpuIndices: [0], totalSteps: assignment.attempt.recipe.steps });
    const timer = setTimeout(() => {
      timers.delete(timer);
      void publishEvent(node, attemptId, 2, {
        type: 'finished',
        exitReason: 'completed',
        cancelReason: null,
        message: null,
        finalMetrics: { steps: assignment.attempt.recipe.steps ?? 1, loss: 0.42, stepTimeMsMean: options.runMs / Math.max(1, assignment.attempt.recipe.steps ?? 1), durationS: options.runMs / 1000 },
        // An assignment without upload URLs: the simulated node uploads nothing, so it reports no key.
        artifactKeys: assignment.uploads?.artifact ? [assignment.uploads.artifact.key] : [],
      })
        .then(() => {
          stats.finished += 1;
          if (node.running?.attemptId === attemptId) node.running = null;
          if (!stopping) beat(node); // the agent heartbeats at once when it becomes idle
        })
        .catch(() => undefined);
    }, options.runMs);
    timers.add(timer);
  };

  // One durable consumer for every node's assign subject (the stream is the API's, created at boot).
  const stream = assignStreamSpec(options.prefix).name;
  const durable = 'bench-fleet';
  await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: allAssignSubject(options.prefix), max_ack_pending: 20_000 });
  const consumer = await js.consumers.get(stream, durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 512 });
  const consuming = (async () => {
    for await (const message of messages) {
      void onAssignment(message).catch(() => undefined);
    }
  })();

  port.on('message', async (message: ToWorker) => {
    if (message.type !== 'stop') return;
    stopping = true;
    clearInterval(heartbeats);
    for (const timer of timers) clearTimeout(timer);
    await messages.close().catch(() => undefined);
    await consuming.catch(() => undefined);
    await jsm.consumers.delete(stream, durable).catch(() => undefined);
    await nc.drain().catch(() => undefined);
    port.postMessage({ type: 'stopped', stats } satisfies FromWorker);
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'scheduler-fleet') {
  runFleet((workerData as { options: FleetOptions }).options).catch((error: unknown) => {
    parentPort?.postMessage({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies FromWorker);
  });
}
