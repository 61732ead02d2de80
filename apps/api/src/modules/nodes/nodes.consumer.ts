import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import {
  allHeartbeatsSubject,
  decodeJson,
  heartbeatKeyBytes,
  HEARTBEAT_MAC_ALG,
  isMacMessage,
  nodeIdFromSubject,
  openMacMessage,
  parseHeartbeat,
  verifyEnvelope,
  type Heartbeat,
  type ParseResult,
  type SecretBox,
} from '@anneal/providers';
import type { Msg, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { SECRET_BOX } from '../../core/crypto/secret-box.provider.js';
import { HttpMetrics } from '../../core/http/http-metrics.js';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import type { NodeLiveState } from './entities/node.entity.js';
import { NodeLiveness, SWEEP_INTERVAL_MS, type HeartbeatWrite, type LiveNode } from './node-liveness.js';
import { NodesRepository, type NodeIdentityRow } from './nodes.repository.js';

/** Why a node message was refused: the protocol's codes plus the consumer's own. */
export type RejectionReason = string;

/** A heartbeat the consumer processed (the benchmark measures lag with it). */
export interface ProcessedHeartbeat {
  nodeId: string;
  seq: number;
  sentAt: string;
  processedAtMs: number;
  outcome: 'accepted' | 'stale';
}

const UNKNOWN_NODE_RETRY_MS = 5_000;

/** Rows written by a flush. */
export interface FlushResult {
  changes: number;
  heartbeatWrites: number;
  telemetrySamples: number;
}
/** Heartbeats processed this late (median since the last sweep) mean a backlog: nodes are not aged then. */
export const BACKLOG_LAG_MS = 2_000;
const LAG_SAMPLES = 512;
/** Rows per statement when writing state changes, heartbeat fields and telemetry (state changes waiting meanwhile go in between). */
const WRITE_CHUNK = 1_000;

/**
 * How a node's heartbeats are authenticated: an HMAC with its heartbeat key (issued at
 * registration, kept sealed in the database, opened once into memory here), or, for a node
 * registered before heartbeat keys existed, an Ed25519 signature with its nkey. `unavailable`: the
 * node has a sealed key this process cannot open (its ENCRYPTION_KEYS lack the key that sealed it).
 */
type HeartbeatAuth = { alg: typeof HEARTBEAT_MAC_ALG; key: Buffer } | { alg: 'ed25519'; publicKey: string } | { alg: 'unavailable' };

/**
 * Heartbeats: a core NATS subscription to every node's heartbeat subject (each replica sees every
 * heartbeat). Each message is checked against the key held for the node named in its subject (its
 * MAC, or for older nodes its signature: {@link HeartbeatAuth}), then validated
 * (`parseHeartbeat`); refusals are counted by reason. Live state is kept in memory
 * ({@link NodeLiveness}); a sweep every 500 ms ages nodes into suspect/offline and writes, in
 * batches, state changes (at once), the heartbeat fields (at most once per node per 30 s) and one
 * telemetry sample per node a minute.
 */
@Injectable()
export class NodesConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly liveness = new NodeLiveness();
  private subscription?: Subscription;
  private readonly rejectedTotal: Counter<'reason'>;
  private readonly heartbeatsTotal: Counter<'outcome'>;
  private readonly lag: Histogram;
  private readonly unknownUntil = new Map<string, number>();
  private readonly lookups = new Map<string, Promise<LiveNode | null>>();
  private readonly listeners = new Set<(event: ProcessedHeartbeat) => void>();
  /** Each known node's heartbeat key (opened once) or public key. Secrets: never logged. */
  private readonly auth = new Map<string, HeartbeatAuth>();
  private readonly accepted: { inc(): void };
  private readonly stale: { inc(): void };
  private readonly deferredSweeps: Counter;
  /** Lags (processed − sentAt) of heartbeats since the last sweep, a bounded sample. */
  private lagSamples: number[] = [];
  private lagSeen = 0;
  private flushLoop: Promise<FlushResult> | null = null;
  private flushRequested = false;
  private readonly pendingWrites = new Map<string, HeartbeatWrite>();
  private flushScheduled = false;
  private stopped = false;

  constructor(
    private readonly nats: NatsService,
    private readonly repository: NodesRepository,
    metrics: HttpMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.rejectedTotal = getOrCreate(metrics, 'anneal_node_messages_rejected_total', () =>
      new Counter({ name: 'anneal_node_messages_rejected_total', help: 'Node messages refused, by reason', labelNames: ['reason'], registers: [metrics.registry] }),
    );
    this.heartbeatsTotal = getOrCreate(metrics, 'anneal_node_heartbeats_total', () =>
      new Counter({ name: 'anneal_node_heartbeats_total', help: 'Authenticated heartbeats by outcome (stale: seq not above the last one)', labelNames: ['outcome'], registers: [metrics.registry] }),
    );
    this.lag = getOrCreate(metrics, 'anneal_node_heartbeat_lag_seconds', () =>
      new Histogram({
        name: 'anneal_node_heartbeat_lag_seconds',
        help: 'From the heartbeat sentAt to processed (includes clock skew between node and API)',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
        registers: [metrics.registry],
      }),
    );
    this.deferredSweeps = getOrCreate(metrics, 'anneal_node_sweeps_deferred_total', () =>
      new Counter({ name: 'anneal_node_sweeps_deferred_total', help: 'Sweeps that did not age nodes because heartbeats were queued (consumer behind)', registers: [metrics.registry] }),
    );
    this.accepted = this.heartbeatsTotal.labels('accepted');
    this.stale = this.heartbeatsTotal.labels('stale');
  }

  async onApplicationBootstrap(): Promise<void> {
    const nowMs = this.clock.now().getTime();
    for (const row of await this.repository.loadIdentities()) this.seed(row, nowMs);
    this.subscription = this.nats.connection.subscribe(allHeartbeatsSubject(this.nats.prefix), {
      callback: (error, message) => {
        if (!error) this.handle(message);
      },
    });
    this.logger.info({ nodes: this.liveness.size }, 'node heartbeat consumer started');
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.subscription?.unsubscribe();
    await this.flushLoop?.catch(() => undefined);
  }

  /**
   * A node just registered here (other replicas learn of it on its first heartbeat), with the
   * heartbeat key it was given (null: a node that signs its heartbeats with its nkey).
   */
  register(row: Pick<NodeIdentityRow, 'id' | 'org_id' | 'public_key' | 'simulated'> & { heartbeatKey?: string | null }): void {
    this.unknownUntil.delete(row.id);
    this.auth.set(row.id, row.heartbeatKey ? { alg: HEARTBEAT_MAC_ALG, key: heartbeatKeyBytes(row.heartbeatKey) } : { alg: 'ed25519', publicKey: row.public_key });
    this.liveness.upsert({ nodeId: row.id, orgId: row.org_id, publicKey: row.public_key, simulated: row.simulated }, this.clock.now().getTime());
  }

  /** A removed node: its credentials are revoked and its messages refused from now on. */
  forget(nodeId: string): void {
    this.liveness.remove(nodeId);
    this.auth.delete(nodeId);
  }

  live(nodeId: string): LiveNode | undefined {
    return this.liveness.get(nodeId);
  }

  /** Observe processed heartbeats (benchmarks, tests). Returns the unsubscribe function. */
  onProcessed(listener: (event: ProcessedHeartbeat) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The message path; public so tests can feed raw messages. */
  handle(message: Pick<Msg, 'subject' | 'data'>): void {
    const nodeId = nodeIdFromSubject(this.nats.prefix, message.subject, 'heartbeat');
    if (!nodeId) return this.reject(null, 'subject_mismatch');
    const node = this.liveness.get(nodeId);
    if (node) return this.open(node, message);
    // A node registered on another replica (or unknown): look it up once, refuse meanwhile-unknown ones.
    const until = this.unknownUntil.get(nodeId);
    if (until !== undefined && until > this.clock.now().getTime()) return this.reject(null, 'unknown_node');
    void this.lookup(nodeId).then((found) => (found ? this.open(found, message) : this.reject(null, 'unknown_node')));
  }

  private lookup(nodeId: string): Promise<LiveNode | null> {
    let pending = this.lookups.get(nodeId);
    if (!pending) {
      pending = this.repository
        .loadIdentity(nodeId)
        .then((row) => {
          if (!row) {
            this.unknownUntil.set(nodeId, this.clock.now().getTime() + UNKNOWN_NODE_RETRY_MS);
            return null;
          }
          return this.seed(row, this.clock.now().getTime());
        })
        .catch((error: unknown) => {
          this.logger.warn({ err: error, nodeId }, 'node lookup failed');
          return null;
        })
        .finally(() => this.lookups.delete(nodeId));
      this.lookups.set(nodeId, pending);
    }
    return pending;
  }

  private seed(row: NodeIdentityRow, nowMs: number): LiveNode {
    this.auth.set(row.id, this.authOf(row));
    const alive = row.state !== 'offline';
    return this.liveness.upsert(
      {
        nodeId: row.id,
        orgId: row.org_id,
        publicKey: row.public_key,
        simulated: row.simulated,
        state: row.state,
        stateSinceMs: row.state_changed_at.getTime(),
        // A node the database last saw alive gets a full grace period from now: its beats resume
        // without a spurious offline/online pair, and a dead one goes offline 10 s after boot.
        lastBeatMs: alive ? nowMs : (row.last_heartbeat_at?.getTime() ?? null),
        graceFromMs: alive ? (row.last_heartbeat_at?.getTime() ?? row.state_changed_at.getTime()) : null,
        lastSeq: row.last_seq === null ? -1 : Number(row.last_seq),
        lastWrittenMs: row.last_written_at?.getTime() ?? null,
        agentState: row.agent_state,
      },
      nowMs,
    );
  }

  /** The node's sealed heartbeat key, opened once (a key that will not open is logged by node id, never by value). */
  private authOf(row: NodeIdentityRow): HeartbeatAuth {
    if (row.heartbeat_key_sealed === null) return { alg: 'ed25519', publicKey: row.public_key };
    try {
      return { alg: HEARTBEAT_MAC_ALG, key: heartbeatKeyBytes(this.secretBox.open(row.heartbeat_key_sealed)) };
    } catch (error) {
      this.logger.error({ nodeId: row.id, code: (error as { code?: string }).code ?? 'invalid_heartbeat_key' }, "node heartbeat key cannot be opened (ENCRYPTION_KEYS lacks the key that sealed it?): the node's heartbeats are refused");
      return { alg: 'unavailable' };
    }
  }

  /**
   * Authenticates and validates one heartbeat of a known node, then applies it. The envelope's
   * `alg` must be the node's: a MAC-keyed node's signed heartbeat is refused (`wrong_alg`), so
   * nobody can make the API pay for an Ed25519 verification on a MAC-keyed node's subject.
   */
  private open(node: LiveNode, message: Pick<Msg, 'subject' | 'data'>): void {
    const auth = this.auth.get(node.nodeId);
    if (auth === undefined || auth.alg === 'unavailable') return this.reject(node, 'heartbeat_key_unavailable');
    let payload: ParseResult<unknown>;
    if (isMacMessage(message.data)) {
      if (auth.alg !== HEARTBEAT_MAC_ALG) return this.reject(node, 'wrong_alg');
      payload = openMacMessage(message.subject, message.data, auth.key);
    } else {
      const json = decodeJson(message.data);
      if (!json.ok) return this.reject(node, json.error.code);
      if (auth.alg === HEARTBEAT_MAC_ALG) return this.reject(node, isSignedEnvelope(json.value) ? 'wrong_alg' : 'malformed_envelope');
      payload = verifyEnvelope(json.value, message.subject, auth.publicKey);
    }
    if (!payload.ok) return this.reject(node, payload.error.code);
    const heartbeat = parseHeartbeat(payload.value);
    if (!heartbeat.ok) return this.reject(node, heartbeat.error.code);
    this.apply(node, heartbeat.value);
  }

  private apply(node: LiveNode, heartbeat: Heartbeat): void {
    if (heartbeat.nodeId !== node.nodeId) return this.reject(node, 'subject_mismatch');
    const nowMs = this.clock.now().getTime();
    const changesBefore = this.liveness.pendingChanges;
    const outcome = this.liveness.applyHeartbeat(node, heartbeat, nowMs);
    if (outcome === 'stale') this.stale.inc();
    else {
      this.accepted.inc();
      const sentMs = Date.parse(heartbeat.sentAt);
      if (Number.isFinite(sentMs)) {
        const lagMs = Math.max(0, nowMs - sentMs);
        this.lag.observe(lagMs / 1000);
        this.lagSeen += 1;
        if (this.lagSamples.length < LAG_SAMPLES) this.lagSamples.push(lagMs);
        else if (Math.random() * this.lagSeen < LAG_SAMPLES) this.lagSamples[Math.floor(Math.random() * LAG_SAMPLES)] = lagMs;
      }
      if (this.liveness.pendingChanges > changesBefore) this.flushSoon();
    }
    if (this.listeners.size > 0) {
      const event: ProcessedHeartbeat = { nodeId: node.nodeId, seq: heartbeat.seq, sentAt: heartbeat.sentAt, processedAtMs: performance.timeOrigin + performance.now(), outcome };
      for (const listener of this.listeners) listener(event);
    }
  }

  private reject(node: LiveNode | null, reason: RejectionReason): void {
    this.rejectedTotal.inc({ reason });
    if (node) this.liveness.countRejection(node.nodeId, reason);
  }

  /** Rejections counted so far for a reason (tests and the admin view). */
  async rejectedCount(reason: RejectionReason): Promise<number> {
    const metric = await this.rejectedTotal.get();
    return metric.values.find((value) => value.labels.reason === reason)?.value ?? 0;
  }

  @Interval('node-liveness', SWEEP_INTERVAL_MS)
  async tick(): Promise<void> {
    if (!this.config.SCHEDULER_ENABLED || this.stopped) return;
    await this.sweep().catch((error: unknown) => this.logger.warn({ err: error }, 'node sweep failed'));
  }

  /**
   * Ages nodes (suspect after 6 s, offline after 10 s without a heartbeat) and writes what is due.
   * Tests call it directly with a TestClock. Resolves when the writes are done.
   */
  async sweep(): Promise<FlushResult & { aged: boolean }> {
    const behind = this.behind();
    if (behind) this.deferredSweeps.inc();
    const writes = this.liveness.sweep(this.clock.now().getTime(), { age: !behind });
    return { ...(await this.flush(writes)), aged: !behind };
  }

  /**
   * Whether heartbeats reach the consumer late (median of (processed − sentAt) since the last sweep
   * above 2 s): then silence means a queue, not a dead node, and aging waits. A median, so a node
   * with a skewed clock cannot cause it; no heartbeats at all is not a backlog.
   */
  private behind(): boolean {
    const samples = this.lagSamples;
    this.lagSamples = [];
    this.lagSeen = 0;
    if (samples.length === 0) return false;
    samples.sort((a, b) => a - b);
    return samples[Math.floor(samples.length / 2)]! > BACKLOG_LAG_MS;
  }

  private flushSoon(): void {
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush([]);
    });
  }

  /**
   * Single flight: one flush at a time; writes requested meanwhile are merged (latest per node)
   * and go in the next round, so a slow database never builds a queue of flushes. Resolves once
   * everything requested so far is written.
   */
  private flush(writes: HeartbeatWrite[]): Promise<FlushResult> {
    for (const write of writes) this.pendingWrites.set(write.nodeId, write);
    this.flushRequested = true;
    this.flushLoop ??= this.runFlushes().finally(() => {
      this.flushLoop = null;
    });
    return this.flushLoop;
  }

  private async runFlushes(): Promise<FlushResult> {
    const total: FlushResult = { changes: 0, heartbeatWrites: 0, telemetrySamples: 0 };
    while (this.flushRequested) {
      this.flushRequested = false;
      // Heartbeat fields due, by node: a node whose state changes gets its fields written with the change instead.
      const writes = new Map(this.pendingWrites);
      this.pendingWrites.clear();
      const samples = this.liveness.takeSamples();
      try {
        total.changes += await this.writeChanges(writes);
        // Heartbeat fields and telemetry in chunks; a state change that comes up meanwhile (a node
        // just went offline) is written before the next chunk, not after the whole batch.
        const due = [...writes.keys()];
        for (let i = 0; i < due.length; i += WRITE_CHUNK) {
          const chunk = due.slice(i, i + WRITE_CHUNK).flatMap((nodeId) => writes.get(nodeId) ?? []);
          total.heartbeatWrites += await this.repository.writeHeartbeats(chunk);
          total.changes += await this.writeChanges(writes);
        }
        for (let i = 0; i < samples.length; i += WRITE_CHUNK) {
          total.telemetrySamples += await this.repository.insertTelemetry(samples.slice(i, i + WRITE_CHUNK));
          total.changes += await this.writeChanges(writes);
        }
      } catch (error) {
        this.logger.warn({ err: error, writes: writes.size, samples: samples.length }, 'node state write failed');
      }
    }
    return total;
  }

  /**
   * State changes so far, oldest first, each with the node's heartbeat fields of that moment (1,000
   * changes per statement); those nodes' older field writes (in `due`, or queued for the next round)
   * are dropped.
   */
  private async writeChanges(due: Map<string, HeartbeatWrite>): Promise<number> {
    const changes = this.liveness.takeChanges();
    let applied = 0;
    for (let i = 0; i < changes.length; i += WRITE_CHUNK) {
      const chunk = changes.slice(i, i + WRITE_CHUNK);
      const nowMs = this.clock.now().getTime();
      const withChange = new Map<string, HeartbeatWrite>();
      for (const change of chunk) {
        const write = this.liveness.writeFor(change.nodeId, nowMs);
        if (write) {
          withChange.set(change.nodeId, write);
          due.delete(change.nodeId);
          this.pendingWrites.delete(change.nodeId);
        }
      }
      try {
        applied += await this.repository.applyStateChanges(chunk, withChange);
      } catch (error) {
        this.logger.warn({ err: error, changes: chunk.length }, 'node state change write failed');
      }
    }
    return applied;
  }

  /** Live status for the console and the offers (a node this replica never heard of is offline). */
  liveState(nodeId: string): NodeLiveState {
    return this.liveness.get(nodeId)?.state ?? 'offline';
  }
}

/** An Ed25519-signed envelope (envelope.ts), by its shape. */
function isSignedEnvelope(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { sig?: unknown }).sig === 'string' && typeof (value as { signer?: unknown }).signer === 'string';
}

function getOrCreate<T>(metrics: HttpMetrics, name: string, create: () => T): T {
  return (metrics.registry.getSingleMetric(name) as T | undefined) ?? create();
}
