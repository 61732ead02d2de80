import type { GpuTelemetry, Heartbeat, RunningAttempt } from '@anneal/providers';
import type { NodeLiveState } from './entities/node.entity.js';

/** Heartbeats come every 2 s: three missed beats make a node suspect, 10 s without one offline. */
export const SUSPECT_AFTER_MS = 6_000;
export const OFFLINE_AFTER_MS = 10_000;
/** How often the sweep ages nodes: a lost node is marked offline at most this long after its 10 s are up. */
export const SWEEP_INTERVAL_MS = 500;
/** The heartbeat fields of a node row are written at most this often (plus on state changes). */
export const WRITE_INTERVAL_MS = 30_000;
/** One telemetry sample per node per minute. */
export const TELEMETRY_INTERVAL_MS = 60_000;

/** What the process knows about one registered node, kept in memory (no DB write per heartbeat). */
export interface LiveNode {
  nodeId: string;
  orgId: string;
  publicKey: string;
  simulated: boolean;
  /** Last seq accepted (-1: none yet). */
  lastSeq: number;
  lastBeatMs: number | null;
  state: NodeLiveState;
  stateSinceMs: number;
  agentState: Heartbeat['state'] | null;
  agentVersion: string | null;
  gpus: GpuTelemetry[] | null;
  runningAttempt: RunningAttempt | null;
  /** When this process last wrote the heartbeat fields (or decided another replica had). */
  lastWrittenMs: number | null;
  /** Heartbeats arrived since the last write. */
  dirty: boolean;
  /** Minute (epoch ms) of the last telemetry sample taken. */
  lastSampleMinuteMs: number | null;
  /** Refused messages by reason, since this process started. */
  rejected: Record<string, number>;
  /**
   * Set at boot for a node the database last saw alive: its last heartbeat as written (up to 30 s
   * old). Until a heartbeat arrives, `lastBeatMs` is a grace period from boot; if none comes, the
   * offline event is dated from this instead of the moment the grace ran out.
   */
  graceFromMs: number | null;
}

export interface StateChange {
  nodeId: string;
  from: NodeLiveState;
  to: NodeLiveState;
  atMs: number;
  reason: 'heartbeat' | 'missed_heartbeats' | 'heartbeat_timeout' | 'deregistered';
}

export interface HeartbeatWrite {
  nodeId: string;
  atMs: number;
  seq: number;
  agentState: string | null;
  gpus: GpuTelemetry[] | null;
  runningAttempt: RunningAttempt | null;
}

export interface TelemetrySample {
  nodeId: string;
  /** The minute the sample belongs to (epoch ms, floor to the minute): idempotent across replicas. */
  minuteMs: number;
  gpus: GpuTelemetry[];
  runningAttemptId: string | null;
}

export type HeartbeatOutcome = 'accepted' | 'stale';

export interface NodeSeed {
  nodeId: string;
  orgId: string;
  publicKey: string;
  simulated: boolean;
  state?: NodeLiveState;
  stateSinceMs?: number;
  lastBeatMs?: number | null;
  lastSeq?: number;
  lastWrittenMs?: number | null;
  graceFromMs?: number | null;
  agentState?: Heartbeat['state'] | null;
  gpus?: GpuTelemetry[] | null;
  runningAttempt?: RunningAttempt | null;
}

/**
 * The node state machine, in memory: heartbeats make a node online; a sweep (every 500 ms) makes it suspect
 * after 6 s and offline after 10 s without one; an `offline` heartbeat is a clean deregistration.
 * It decides what to write (state changes at once, heartbeat fields at most every 30 s per node,
 * one telemetry sample a minute) and queues it; the repository writes the queues in batches.
 * Pure: every time is passed in.
 */
export class NodeLiveness {
  readonly #nodes = new Map<string, LiveNode>();
  #changes: StateChange[] = [];
  #samples: TelemetrySample[] = [];

  get size(): number {
    return this.#nodes.size;
  }

  get(nodeId: string): LiveNode | undefined {
    return this.#nodes.get(nodeId);
  }

  all(): IterableIterator<LiveNode> {
    return this.#nodes.values();
  }

  /** Adds (or refreshes the identity of) a registered node. Keeps live state it already has. */
  upsert(seed: NodeSeed, nowMs: number): LiveNode {
    const existing = this.#nodes.get(seed.nodeId);
    if (existing) {
      existing.publicKey = seed.publicKey;
      existing.orgId = seed.orgId;
      existing.simulated = seed.simulated;
      return existing;
    }
    const node: LiveNode = {
      nodeId: seed.nodeId,
      orgId: seed.orgId,
      publicKey: seed.publicKey,
      simulated: seed.simulated,
      lastSeq: seed.lastSeq ?? -1,
      lastBeatMs: seed.lastBeatMs ?? null,
      state: seed.state ?? 'offline',
      stateSinceMs: seed.stateSinceMs ?? nowMs,
      agentState: seed.agentState ?? null,
      agentVersion: null,
      gpus: seed.gpus ?? null,
      runningAttempt: seed.runningAttempt ?? null,
      lastWrittenMs: seed.lastWrittenMs ?? null,
      dirty: false,
      lastSampleMinuteMs: null,
      rejected: {},
      graceFromMs: seed.graceFromMs ?? null,
    };
    this.#nodes.set(node.nodeId, node);
    return node;
  }

  /** A removed node: its messages are no longer accepted. */
  remove(nodeId: string): void {
    this.#nodes.delete(nodeId);
  }

  /** A verified heartbeat of a known node. Drops one whose seq is not above the last one seen. */
  applyHeartbeat(node: LiveNode, heartbeat: Heartbeat, nowMs: number): HeartbeatOutcome {
    if (heartbeat.seq <= node.lastSeq) return 'stale';
    node.lastSeq = heartbeat.seq;
    node.lastBeatMs = nowMs;
    node.graceFromMs = null;
    node.agentState = heartbeat.state;
    node.agentVersion = heartbeat.agentVersion;
    node.gpus = heartbeat.gpus;
    node.runningAttempt = heartbeat.runningAttempt;
    node.dirty = true;
    if (heartbeat.state === 'offline') {
      this.#transition(node, 'offline', nowMs, 'deregistered');
    } else if (node.state !== 'online') {
      this.#transition(node, 'online', nowMs, 'heartbeat');
    }
    const minuteMs = Math.floor(nowMs / TELEMETRY_INTERVAL_MS) * TELEMETRY_INTERVAL_MS;
    if (heartbeat.gpus.length > 0 && node.lastSampleMinuteMs !== minuteMs) {
      node.lastSampleMinuteMs = minuteMs;
      this.#samples.push({ nodeId: node.nodeId, minuteMs, gpus: heartbeat.gpus, runningAttemptId: heartbeat.runningAttempt?.attemptId ?? null });
    }
    return 'accepted';
  }

  countRejection(nodeId: string, reason: string): void {
    const node = this.#nodes.get(nodeId);
    if (node) node.rejected[reason] = (node.rejected[reason] ?? 0) + 1;
  }

  /**
   * The sweep: ages nodes into suspect and offline (unless `age` is false: the consumer is
   * behind), and returns the heartbeat fields due to be written (nodes with news whose last write
   * is 30 s old or more).
   */
  sweep(nowMs: number, options: { age?: boolean } = {}): HeartbeatWrite[] {
    const age = options.age ?? true;
    const writes: HeartbeatWrite[] = [];
    for (const node of this.#nodes.values()) {
      if (!age) {
        // The consumer is behind (heartbeats wait in the queue): silence says nothing now.
      } else if (node.state !== 'offline' && node.lastBeatMs !== null) {
        const silentMs = nowMs - node.lastBeatMs;
        if (silentMs > OFFLINE_AFTER_MS) {
          // After a restart of the API, date the loss from the last heartbeat the database saw.
          const atMs = node.graceFromMs === null ? nowMs : Math.max(Math.min(nowMs, node.graceFromMs + OFFLINE_AFTER_MS), node.stateSinceMs);
          this.#transition(node, 'offline', atMs, 'heartbeat_timeout');
          node.graceFromMs = null;
        }
        else if (silentMs > SUSPECT_AFTER_MS && node.state === 'online' && node.graceFromMs === null) this.#transition(node, 'suspect', nowMs, 'missed_heartbeats');
      } else if (node.state !== 'offline' && node.lastBeatMs === null) {
        this.#transition(node, 'offline', nowMs, 'heartbeat_timeout');
      }
      if (node.dirty && (node.lastWrittenMs === null || nowMs - node.lastWrittenMs >= WRITE_INTERVAL_MS)) {
        writes.push(this.#takeWrite(node, nowMs));
      }
    }
    return writes;
  }

  /** The heartbeat fields of a node whose state just changed (written together with the change). */
  writeFor(nodeId: string, nowMs: number): HeartbeatWrite | null {
    const node = this.#nodes.get(nodeId);
    return node && node.lastBeatMs !== null ? this.#takeWrite(node, nowMs) : null;
  }

  /** State changes since the last call, oldest first. */
  takeChanges(): StateChange[] {
    const changes = this.#changes;
    this.#changes = [];
    return changes;
  }

  takeSamples(): TelemetrySample[] {
    const samples = this.#samples;
    this.#samples = [];
    return samples;
  }

  get pendingChanges(): number {
    return this.#changes.length;
  }

  #takeWrite(node: LiveNode, nowMs: number): HeartbeatWrite {
    node.dirty = false;
    node.lastWrittenMs = nowMs;
    return {
      nodeId: node.nodeId,
      atMs: node.lastBeatMs ?? nowMs,
      seq: node.lastSeq,
      agentState: node.agentState,
      gpus: node.gpus,
      runningAttempt: node.runningAttempt,
    };
  }

  #transition(node: LiveNode, to: NodeLiveState, nowMs: number, reason: StateChange['reason']): void {
    if (node.state === to) return;
    this.#changes.push({ nodeId: node.nodeId, from: node.state, to, atMs: nowMs, reason });
    node.state = to;
    node.stateSinceMs = nowMs;
  }
}
