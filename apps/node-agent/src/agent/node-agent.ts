import {
  assignConsumerName,
  assignmentSchema,
  assignStreamSpec,
  assignSubject,
  attemptEventMsgId,
  attemptEventsSubject,
  controlMessageSchema,
  controlSubject,
  encodeMacMessage,
  encodeSignedMessage,
  heartbeatKeyBytes,
  heartbeatSubject,
  keyPairFromSeed,
  openSignedMessage,
  type Assignment,
  type AttemptEvent,
  type AttemptEventBody,
  type CancelReason,
  type GpuTelemetry,
  type Heartbeat,
  type NatsAuth,
  type RunnerKind,
  type RunningAttempt,
} from '@anneal/providers';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { connect, nanos, nkeyAuthenticator, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { KeyPair } from '@nats-io/nkeys';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchmarkObserver, buildBenchmarkSample } from '../runner/benchmark-sample.builder.js';
import { silentLogger, type Logger } from '../logger.js';
import type { HeartbeatSequence } from '../config/seq-store.js';
import { assignmentNeedsStorageApi, AttemptStorageClient } from '../runner/io/attempt-storage.client.js';
import type { Runner, RunnerEvent, RunOutcome, StopRequest } from '../runner/runner.js';
import { Backoff, sleep } from './backoff.js';
import type { GpuSource } from './gpu-source.js';

export interface NodeAgentIdentity {
  nodeId: string;
  /** The node's nkey seed: signs what the node publishes (attempt events; heartbeats only without a heartbeat key). */
  nkeySeed: string;
  /** The heartbeat key from registration: every heartbeat carries an HMAC made with it. Absent: registered before heartbeat keys. */
  heartbeatKey?: string | null;
  natsUrl: string;
  natsAuth: NatsAuth;
  subjectPrefix: string;
  /** Assignments and control messages must be signed with this key. */
  apiPublicKey: string;
  /**
   * The API base URL from registration (`anneal-agent register --api URL`): attempts ask it, with
   * their attempt token, for the presigned URLs their assignment does not carry. Absent: only
   * assignments that carry every URL can run.
   */
  apiUrl?: string;
}

export interface NodeAgentOptions {
  identity: NodeAgentIdentity;
  gpus: GpuSource;
  sequence: HeartbeatSequence;
  /** The runner for an attempt of this kind, or null to reject such attempts. */
  runnerFor: (kind: RunnerKind) => Runner | null;
  /** Why `runnerFor` returns null (sent with the rejection), e.g. no container runtime and no --command. */
  noRunnerReason?: string;
  agentVersion: string;
  logger?: Logger;
  nowMs?: () => number;
  heartbeatIntervalMs?: number;
  /** How long a drain waits for the running attempt before stopping it (it checkpoints). */
  drainTimeoutMs?: number;
  /** Own reconnect backoff (on top of the client's), for the first connect and any closed connection. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** Called after every heartbeat attempt and state change (for status.json). */
  onStatus?: (status: NodeAgentStatus) => void;
  /** Where attempts get their private work directories (deleted after each attempt). Default: the OS temp dir. */
  workRoot?: string;
}

export interface NodeAgentStatus {
  nodeId: string;
  connected: boolean;
  state: Heartbeat['state'];
  simulated: boolean;
  lastHeartbeat: Heartbeat | null;
  lastHeartbeatPublished: boolean;
  currentAttempt: RunningAttempt | null;
  heartbeatsSkippedWhileDisconnected: number;
  updatedAt: string;
}

interface ActiveAttempt {
  assignment: Assignment;
  controller: AbortController;
  phase: RunningAttempt['phase'];
  startedAtMs: number | null;
  step: number | null;
  eventSeq: number;
  cancelReason: CancelReason | null;
  done: Promise<void>;
}

/** Attempt events in flight at once (see drainOutbox). */
const OUTBOX_WINDOW = 64;

interface OutboxItem {
  subject: string;
  data: Uint8Array;
  msgId: string;
  resolve: () => void;
}

/**
 * The anneal-agent daemon: keeps a NATS connection (reconnecting with backoff), publishes MACed
 * heartbeats (signed, for a node registered before heartbeat keys), takes assignments from its JetStream durable consumer, obeys control messages
 * (cancel, drain) and reports attempt events. One attempt at a time.
 */
export class NodeAgent {
  private readonly identity: NodeAgentIdentity;
  private readonly keyPair: KeyPair;
  private readonly heartbeatKey: Buffer | null;
  private readonly logger: Logger;
  private readonly nowMs: () => number;
  private readonly heartbeatIntervalMs: number;
  private readonly drainTimeoutMs: number;
  private readonly startedAtMs: number;
  private readonly supervisorStop = new AbortController();
  private readonly reconnectBackoff: Backoff;
  private readonly clientBackoff: Backoff;

  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private connected = false;
  private connectedWaiters: Array<() => void> = [];
  private supervisor: Promise<void> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatsStopped = false;
  private heartbeatInFlight: Promise<void> | null = null;
  private state: Heartbeat['state'] = 'active';
  private attempt: ActiveAttempt | null = null;
  private lastHeartbeat: Heartbeat | null = null;
  private lastHeartbeatPublished = false;
  private skippedHeartbeats = 0;
  private readonly outbox: OutboxItem[] = [];
  private outboxWorker: Promise<void> | null = null;
  private shutdownPromise: Promise<void> | null = null;

  constructor(private readonly options: NodeAgentOptions) {
    this.identity = options.identity;
    this.keyPair = keyPairFromSeed(options.identity.nkeySeed);
    this.heartbeatKey = options.identity.heartbeatKey ? heartbeatKeyBytes(options.identity.heartbeatKey) : null;
    this.logger = options.logger ?? silentLogger;
    this.nowMs = options.nowMs ?? Date.now;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 2_000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 60_000;
    this.startedAtMs = this.nowMs();
    this.reconnectBackoff = new Backoff(options.reconnectInitialMs ?? 500, options.reconnectMaxMs ?? 30_000);
    this.clientBackoff = new Backoff(options.reconnectInitialMs ?? 500, options.reconnectMaxMs ?? 30_000);
  }

  /** Starts connecting (in the background) and heartbeating. */
  start(): void {
    if (this.supervisor) return;
    this.supervisor = this.supervise();
    this.scheduleHeartbeat(0);
  }

  /** Resolves once connected (for tests and the CLI's first log line). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  isConnected(): boolean {
    return this.connected;
  }

  currentAttemptId(): string | null {
    return this.attempt?.assignment.attempt.attemptId ?? null;
  }

  /** Takes no new work; lets the running attempt finish, stopping it after the drain timeout. */
  drain(): void {
    if (this.state !== 'active') return;
    this.state = 'draining';
    this.logger.info('draining: no new attempts', { nodeId: this.identity.nodeId });
    const running = this.attempt;
    if (running) {
      const timer = setTimeout(() => this.stopAttempt(running, { kind: 'drain' }), this.drainTimeoutMs);
      void running.done.finally(() => clearTimeout(timer));
    }
    this.heartbeatNow();
  }

  /**
   * SIGTERM: drain, wait for the running attempt (finished or checkpointed), publish the last
   * heartbeat (state 'offline': the node deregisters), flush attempt events, close NATS.
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    this.drain();
    await this.attempt?.done;
    this.stopHeartbeats();
    await this.heartbeatInFlight;
    this.state = 'offline';
    await this.flushOutbox(10_000);
    if (this.connected && this.nc) {
      await this.publishHeartbeat(this.nc);
      try {
        await this.nc.flush();
      } catch {
        // the connection is going away anyway
      }
    }
    this.supervisorStop.abort();
    const nc = this.nc;
    if (nc) await nc.drain().catch(() => nc.close());
    await this.supervisor;
    this.logger.info('stopped', { nodeId: this.identity.nodeId });
  }

  // ---- connection ---------------------------------------------------------------------------

  private async supervise(): Promise<void> {
    const signal = this.supervisorStop.signal;
    while (!signal.aborted) {
      let nc: NatsConnection;
      try {
        nc = await connect({
          servers: this.identity.natsUrl.split(',').map((server) => server.trim()),
          name: `anneal-agent ${this.identity.nodeId}`,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectDelayHandler: () => this.clientBackoff.next(),
          pingInterval: Math.max(1_000, Math.min(20_000, this.heartbeatIntervalMs * 5)),
          maxPingOut: 2,
          ...this.authOptions(),
        });
      } catch (error) {
        const delayMs = this.reconnectBackoff.next();
        this.logger.warn('cannot reach NATS, retrying', { delayMs, error });
        await sleep(delayMs, signal);
        continue;
      }
      this.reconnectBackoff.reset();
      this.clientBackoff.reset();
      if (signal.aborted) {
        await nc.close();
        break;
      }
      await this.runSession(nc);
      if (!signal.aborted) {
        const delayMs = this.reconnectBackoff.next();
        this.logger.warn('NATS connection closed, reconnecting', { delayMs });
        await sleep(delayMs, signal);
      }
    }
  }

  private authOptions(): { token?: string; authenticator?: ReturnType<typeof nkeyAuthenticator> } {
    const auth = this.identity.natsAuth;
    if (auth.kind === 'token') return { token: auth.token };
    if (auth.kind === 'nkey') return { authenticator: nkeyAuthenticator(new TextEncoder().encode(this.identity.nkeySeed)) };
    return {};
  }

  /** One NatsConnection's life: subscriptions, consumer, status watch; returns when it closes. */
  private async runSession(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    this.js = jetstream(nc);
    const sessionStop = new AbortController();
    const control = nc.subscribe(controlSubject(this.identity.subjectPrefix, this.identity.nodeId), {
      callback: (error, msg) => {
        if (!error) this.onControl(msg.subject, msg.data);
      },
    });
    const statusWatch = this.watchStatus(nc);
    // Connected means reachable: the server has the control subscription before anyone is told
    // (a drain or cancel sent right after would otherwise be lost).
    await nc.flush().catch(() => undefined);
    this.setConnected(true);
    this.logger.info('connected to NATS', { nodeId: this.identity.nodeId, server: nc.getServer() });
    const consumer = this.consumeAssignments(nc, sessionStop.signal);
    const closed = await nc.closed();
    if (closed instanceof Error) this.logger.warn('NATS connection closed with an error', { error: closed });
    sessionStop.abort();
    this.setConnected(false);
    unsubscribeQuietly(control);
    await Promise.allSettled([statusWatch, consumer]);
    this.nc = null;
    this.js = null;
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.setConnected(false);
        this.logger.warn('disconnected from NATS; heartbeats paused', { server: status.server });
      } else if (status.type === 'reconnect') {
        this.clientBackoff.reset();
        this.setConnected(true);
        this.logger.info('reconnected to NATS', { server: status.server });
      }
    }
  }

  private setConnected(connected: boolean): void {
    const was = this.connected;
    this.connected = connected;
    if (connected && !was) {
      for (const resolve of this.connectedWaiters.splice(0)) resolve();
      // One fresh heartbeat right away (never the ones missed while away), then the cadence.
      this.heartbeatNow();
      this.kickOutbox();
    }
    this.emitStatus();
  }

  // ---- heartbeats ---------------------------------------------------------------------------

  private scheduleHeartbeat(delayMs: number): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.heartbeatsStopped) return;
    this.heartbeatTimer = setTimeout(() => this.heartbeatTick(), delayMs);
  }

  private heartbeatNow(): void {
    if (!this.supervisor) return;
    this.scheduleHeartbeat(0);
  }

  private stopHeartbeats(): void {
    this.heartbeatsStopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private heartbeatTick(): void {
    this.heartbeatTimer = null;
    if (this.heartbeatInFlight) {
      // A slow telemetry read is still running: try again on the next beat.
      this.scheduleHeartbeat(this.heartbeatIntervalMs);
      return;
    }
    const nc = this.nc;
    const beat = async () => {
      if (!this.connected || !nc) {
        // Dropped, not queued: after the gap the API gets one fresh heartbeat, not a burst.
        this.skippedHeartbeats += 1;
        this.emitStatus();
        return;
      }
      await this.publishHeartbeat(nc);
    };
    this.heartbeatInFlight = beat()
      .catch((error: unknown) => this.logger.warn('heartbeat failed', { error }))
      .finally(() => {
        this.heartbeatInFlight = null;
        if (!this.heartbeatTimer) this.scheduleHeartbeat(this.heartbeatIntervalMs);
      });
  }

  private async publishHeartbeat(nc: NatsConnection): Promise<void> {
    let gpus: GpuTelemetry[] = [];
    try {
      gpus = await this.options.gpus.read(this.attempt?.phase === 'running');
    } catch (error) {
      this.logger.warn('GPU telemetry failed', { error });
    }
    if (!this.connected) {
      this.skippedHeartbeats += 1;
      return;
    }
    const heartbeat: Heartbeat = {
      schemaVersion: 1,
      type: 'heartbeat',
      nodeId: this.identity.nodeId,
      seq: this.options.sequence.next(),
      sentAt: new Date(this.nowMs()).toISOString(),
      agentVersion: this.options.agentVersion,
      uptimeS: Math.max(0, (this.nowMs() - this.startedAtMs) / 1000),
      simulated: this.options.gpus.simulated,
      state: this.state,
      gpus,
      runningAttempt: this.runningAttempt(),
    };
    const subject = heartbeatSubject(this.identity.subjectPrefix, this.identity.nodeId);
    nc.publish(subject, this.heartbeatKey ? encodeMacMessage(this.heartbeatKey, subject, heartbeat) : encodeSignedMessage(this.keyPair, subject, heartbeat));
    this.lastHeartbeat = heartbeat;
    this.lastHeartbeatPublished = true;
    this.emitStatus();
  }

  private runningAttempt(): RunningAttempt | null {
    const attempt = this.attempt;
    if (!attempt) return null;
    return {
      attemptId: attempt.assignment.attempt.attemptId,
      jobId: attempt.assignment.attempt.jobId,
      phase: attempt.phase,
      startedAt: attempt.startedAtMs === null ? null : new Date(attempt.startedAtMs).toISOString(),
      step: attempt.step,
    };
  }

  private emitStatus(): void {
    this.options.onStatus?.({
      nodeId: this.identity.nodeId,
      connected: this.connected,
      state: this.state,
      simulated: this.options.gpus.simulated,
      lastHeartbeat: this.lastHeartbeat,
      lastHeartbeatPublished: this.lastHeartbeatPublished,
      currentAttempt: this.runningAttempt(),
      heartbeatsSkippedWhileDisconnected: this.skippedHeartbeats,
      updatedAt: new Date(this.nowMs()).toISOString(),
    });
  }

  // ---- assignments --------------------------------------------------------------------------

  private async consumeAssignments(nc: NatsConnection, stop: AbortSignal): Promise<void> {
    const backoff = new Backoff(250, 10_000);
    const stream = assignStreamSpec(this.identity.subjectPrefix).name;
    const durable = assignConsumerName(this.identity.nodeId);
    while (!stop.aborted && !nc.isClosed()) {
      let messages: ConsumerMessages | null = null;
      const onStop = () => void messages?.close();
      try {
        const jsm = await jetstreamManager(nc);
        // The API may have created the consumer already (same name and filter); use it as it is.
        const exists = await jsm.consumers.info(stream, durable).then(
          () => true,
          () => false,
        );
        if (!exists) await jsm.consumers.add(stream, {
          durable_name: durable,
          filter_subject: assignSubject(this.identity.subjectPrefix, this.identity.nodeId),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: nanos(60_000),
          max_deliver: 5,
        });
        const consumer = await jetstream(nc).consumers.get(stream, durable);
        messages = await consumer.consume({ max_messages: 1 });
        stop.addEventListener('abort', onStop, { once: true });
        backoff.reset();
        for await (const msg of messages) {
          await this.onAssignment(msg);
        }
      } catch (error) {
        if (stop.aborted || nc.isClosed()) break;
        const delayMs = backoff.next();
        this.logger.warn('cannot consume assignments yet, retrying', { stream, delayMs, error });
        await sleep(delayMs, stop);
      } finally {
        stop.removeEventListener('abort', onStop);
      }
    }
  }

  private async onAssignment(msg: JsMsg): Promise<void> {
    const opened = openSignedMessage(assignmentSchema, msg.subject, msg.data, this.identity.apiPublicKey);
    if (!opened.ok) {
      this.logger.warn('refused an assignment', { code: opened.error.code, reason: opened.error.message });
      msg.term(opened.error.code);
      return;
    }
    const assignment = opened.value;
    const attemptId = assignment.attempt.attemptId;
    if (assignment.nodeId !== this.identity.nodeId) {
      this.logger.warn('refused an assignment for another node', { attemptId });
      msg.term('wrong_node');
      return;
    }
    if (this.attempt?.assignment.attempt.attemptId === attemptId) {
      // A redelivery of what we run already (our ack was lost): ack again.
      msg.ack();
      return;
    }
    const rejection = await this.rejectionFor(assignment);
    if (rejection) {
      this.logger.info('rejected an assignment', { attemptId, reason: rejection.reason });
      await this.publishEvent(attemptId, 0, { type: 'rejected', ...rejection });
      msg.ack();
      return;
    }
    const runner = this.options.runnerFor(assignment.attempt.runnerKind);
    if (!runner) {
      const message = `this agent cannot run '${assignment.attempt.runnerKind}' attempts${this.options.noRunnerReason ? `: ${this.options.noRunnerReason}` : ''}`.slice(0, 1000);
      await this.publishEvent(attemptId, 0, { type: 'rejected', reason: 'invalid_assignment', message });
      msg.ack();
      return;
    }
    const attempt: ActiveAttempt = {
      assignment,
      controller: new AbortController(),
      phase: 'accepted',
      startedAtMs: null,
      step: null,
      eventSeq: 1,
      cancelReason: null,
      done: Promise.resolve(),
    };
    this.attempt = attempt;
    // The ack of the assignment is the `accepted` event; the JetStream message is acked after it is stored.
    await this.publishEvent(attemptId, 0, { type: 'accepted' });
    msg.ack();
    this.logger.info('accepted an attempt', { attemptId, jobId: assignment.attempt.jobId, runner: runner.name });
    attempt.done = this.runAttempt(attempt, runner).finally(() => {
      if (this.attempt === attempt) this.attempt = null;
      this.heartbeatNow();
    });
    this.heartbeatNow();
  }

  private async rejectionFor(assignment: Assignment): Promise<{ reason: 'busy' | 'draining' | 'expired' | 'insufficient_gpus' | 'invalid_assignment'; message: string } | null> {
    if (this.state !== 'active') return { reason: 'draining', message: 'the node is draining and takes no new attempts' };
    if (this.attempt) return { reason: 'busy', message: 'the node is running another attempt' };
    const expiresAt = assignment.uploads?.expiresAt;
    if (expiresAt && Date.parse(expiresAt) <= this.nowMs()) return { reason: 'expired', message: 'the assignment expired before the node received it' };
    if (!this.identity.apiUrl && assignmentNeedsStorageApi(assignment)) {
      return { reason: 'invalid_assignment', message: 'the assignment leaves presigned URLs to the API, and this agent knows no API URL (register it again with --api)' };
    }
    const wanted = assignment.attempt.gpuIndices;
    const gpus = this.lastHeartbeat?.gpus ?? (await this.options.gpus.read(false).catch(() => []));
    const present = new Set(gpus.map((gpu) => gpu.index));
    const missing = wanted?.filter((index) => !present.has(index)) ?? [];
    if (missing.length > 0) return { reason: 'insufficient_gpus', message: `the node has no GPU with index ${missing.join(', ')}` };
    return null;
  }

  private async runAttempt(attempt: ActiveAttempt, runner: Runner): Promise<void> {
    const { assignment, controller } = attempt;
    const attemptId = assignment.attempt.attemptId;
    const timers: NodeJS.Timeout[] = [];
    const stopAt = (atMs: number, stop: StopRequest) => {
      timers.push(setTimeout(() => this.stopAttempt(attempt, stop), Math.min(2_147_000_000, Math.max(0, atMs - this.nowMs()))));
    };
    attempt.startedAtMs = this.nowMs();
    stopAt(attempt.startedAtMs + assignment.attempt.maxDurationS * 1000, { kind: 'max_duration' });
    if (assignment.attempt.budgetStopAt) stopAt(Date.parse(assignment.attempt.budgetStopAt), { kind: 'budget' });
    const knownGpus = this.lastHeartbeat?.gpus ?? (await this.options.gpus.read(false).catch(() => []));
    const gpuIndices = assignment.attempt.gpuIndices ?? knownGpus.map((gpu) => gpu.index);
    const attemptGpus = knownGpus.filter((gpu) => gpuIndices.includes(gpu.index));
    const simulated = this.options.gpus.simulated;
    const recipeSteps = assignment.attempt.recipe.steps;
    const observer = new BenchmarkObserver();
    let outcome: RunOutcome;
    let workDir: string | null = null;
    try {
      const workRoot = this.options.workRoot ?? join(tmpdir(), 'anneal-agent');
      await mkdir(workRoot, { recursive: true, mode: 0o700 });
      workDir = await mkdtemp(join(workRoot, 'attempt-'));
      if (!controller.signal.aborted) attempt.phase = 'running';
      void this.publishEvent(attemptId, attempt.eventSeq++, {
        type: 'started',
        runnerKind: assignment.attempt.runnerKind,
        runnerName: runner.name,
        gpuIndices,
        totalSteps: recipeSteps,
      });
      outcome = await runner.run({
        assignment,
        gpuIndices,
        signal: controller.signal,
        nowMs: this.nowMs,
        gpus: attemptGpus,
        simulated,
        gpuUtilizationPct: () => (simulated ? null : meanUtilization(this.lastHeartbeat?.gpus ?? [], gpuIndices)),
        workDir,
        storage: this.identity.apiUrl ? new AttemptStorageClient({ apiUrl: this.identity.apiUrl, attemptId, attemptToken: assignment.attemptToken }) : null,
        report: (event: RunnerEvent) => {
          if (event.type === 'step') {
            attempt.step = event.step;
            observer.onStep(event.stepTimeMs);
          } else if (event.type === 'validation') {
            observer.onValidation(event.promptCount, event.totalTimeMs);
          }
          void this.publishEvent(attemptId, attempt.eventSeq++, event);
        },
      });
    } catch (error) {
      this.logger.error('runner failed', { attemptId, error });
      outcome = { exitReason: 'error', message: 'the runner failed unexpectedly', steps: attempt.step ?? 0, loss: null, stepTimeMsMean: null, artifactKeys: [] };
    } finally {
      for (const timer of timers) clearTimeout(timer);
      if (workDir) await rm(workDir, { recursive: true, force: true }).catch((error: unknown) => this.logger.warn('could not remove the attempt work dir', { error }));
    }
    if (runner.measuresTraining) {
      const sample = buildBenchmarkSample({ recipe: assignment.attempt.recipe, gpus: attemptGpus, simulated, exitReason: outcome.exitReason, observer });
      if (sample) void this.publishEvent(attemptId, attempt.eventSeq++, { type: 'benchmark_sample', sample });
    }
    // Not awaited: stored by the outbox whenever NATS is reachable (shutdown flushes it).
    void this.publishEvent(attemptId, attempt.eventSeq++, {
      type: 'finished',
      exitReason: outcome.exitReason,
      cancelReason: outcome.exitReason === 'canceled' ? attempt.cancelReason : null,
      message: outcome.message,
      finalMetrics: {
        steps: outcome.steps,
        loss: outcome.loss,
        stepTimeMsMean: outcome.stepTimeMsMean,
        durationS: Math.max(0, (this.nowMs() - (attempt.startedAtMs ?? this.nowMs())) / 1000),
      },
      artifactKeys: outcome.artifactKeys,
    });
    this.logger.info('attempt finished', { attemptId, exitReason: outcome.exitReason });
  }

  private stopAttempt(attempt: ActiveAttempt, stop: StopRequest): void {
    if (attempt.controller.signal.aborted) return;
    if (stop.kind === 'cancel') attempt.cancelReason = stop.reason;
    attempt.phase = 'stopping';
    attempt.controller.abort(stop);
    this.heartbeatNow();
  }

  // ---- control ------------------------------------------------------------------------------

  private onControl(subject: string, data: Uint8Array): void {
    const opened = openSignedMessage(controlMessageSchema, subject, data, this.identity.apiPublicKey);
    if (!opened.ok) {
      this.logger.warn('refused a control message', { code: opened.error.code, reason: opened.error.message });
      return;
    }
    const control = opened.value;
    if (control.nodeId !== this.identity.nodeId) {
      this.logger.warn('refused a control message for another node', { type: control.type });
      return;
    }
    if (control.type === 'drain') {
      this.drain();
      return;
    }
    const attempt = this.attempt;
    if (!attempt || attempt.assignment.attempt.attemptId !== control.attemptId) {
      this.logger.info('cancel for an attempt this node does not run', { attemptId: control.attemptId });
      return;
    }
    this.logger.info('canceling attempt', { attemptId: control.attemptId, reason: control.reason });
    this.stopAttempt(attempt, { kind: 'cancel', reason: control.reason });
  }

  // ---- attempt events (JetStream, in order, retried until stored) ---------------------------

  private publishEvent(attemptId: string, eventSeq: number, body: AttemptEventBody): Promise<void> {
    const event = {
      schemaVersion: 1,
      attemptId,
      nodeId: this.identity.nodeId,
      eventSeq,
      at: new Date(this.nowMs()).toISOString(),
      ...body,
    } as AttemptEvent;
    const subject = attemptEventsSubject(this.identity.subjectPrefix, attemptId);
    return new Promise((resolve) => {
      this.outbox.push({ subject, data: encodeSignedMessage(this.keyPair, subject, event), msgId: attemptEventMsgId(attemptId, eventSeq), resolve });
      this.kickOutbox();
    });
  }

  private kickOutbox(): void {
    if (this.outboxWorker || this.outbox.length === 0) return;
    this.outboxWorker = this.drainOutbox().finally(() => {
      this.outboxWorker = null;
      if (this.outbox.length > 0 && this.connected) this.kickOutbox();
    });
  }

  /**
   * Publishes queued events in order, up to {@link OUTBOX_WINDOW} in flight at once: they go out
   * over one connection in queue order, so JetStream stores them in order, and a fast runner (the
   * synthetic trainer reports a step every few ms) does not wait one round trip per event. A failed
   * publish is retried (after the ones behind it that did succeed; the API orders by eventSeq and
   * de-duplicates by Nats-Msg-Id).
   */
  private async drainOutbox(): Promise<void> {
    const backoff = new Backoff(200, 5_000);
    while (this.outbox.length > 0) {
      const js = this.js;
      if (!this.connected || !js) return; // resumed by setConnected(true)
      const batch = this.outbox.slice(0, OUTBOX_WINDOW);
      const results = await Promise.allSettled(batch.map((item) => js.publish(item.subject, item.data, { msgID: item.msgId, timeout: 5_000 })));
      const failed: unknown[] = [];
      results.forEach((result, i) => {
        const item = batch[i]!;
        if (result.status === 'fulfilled') {
          this.outbox.splice(this.outbox.indexOf(item), 1);
          item.resolve();
        } else {
          failed.push(result.reason);
        }
      });
      if (failed.length === 0) {
        backoff.reset();
        continue;
      }
      const delayMs = backoff.next();
      this.logger.warn('attempt events not stored yet, retrying', { count: failed.length, delayMs, error: failed[0] });
      await sleep(delayMs, this.supervisorStop.signal);
      if (this.supervisorStop.signal.aborted) return;
    }
  }

  private async flushOutbox(timeoutMs: number): Promise<void> {
    const deadline = this.nowMs() + timeoutMs;
    while (this.outbox.length > 0 && this.nowMs() < deadline) {
      this.kickOutbox();
      await (this.outboxWorker ?? sleep(50));
      if (this.outbox.length > 0) await sleep(50);
    }
    if (this.outbox.length > 0) this.logger.warn('attempt events left unsent at shutdown', { count: this.outbox.length });
  }
}

/** Mean utilisation of the given GPUs in a telemetry reading; null when none reports it. */
function meanUtilization(gpus: readonly GpuTelemetry[], indices: readonly number[]): number | null {
  const values = gpus.filter((gpu) => indices.includes(gpu.index) && gpu.utilizationPct !== null).map((gpu) => gpu.utilizationPct!);
  return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null;
}

function unsubscribeQuietly(subscription: Subscription): void {
  try {
    subscription.unsubscribe();
  } catch {
    // already closed with the connection
  }
}
