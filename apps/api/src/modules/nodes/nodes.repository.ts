import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ID_GENERATOR, type IdGenerator } from '../../core/clock/clock.js';
import { returningRows } from '../../core/database/returning-rows.js';
import type { NodeLiveState } from './entities/node.entity.js';
import { WRITE_INTERVAL_MS, type HeartbeatWrite, type StateChange, type TelemetrySample } from './node-liveness.js';

export interface NodeIdentityRow {
  id: string;
  org_id: string;
  public_key: string;
  simulated: boolean;
  state: NodeLiveState;
  state_changed_at: Date;
  last_heartbeat_at: Date | null;
  last_seq: string | null;
  last_written_at: Date | null;
  agent_state: 'active' | 'draining' | 'offline' | null;
  /** The heartbeat key sealed with the SecretBox; null for a node that signs its heartbeats with its nkey. */
  heartbeat_key_sealed: string | null;
}

const IDENTITY_COLUMNS = 'id, org_id, public_key, simulated, state, state_changed_at, last_heartbeat_at, last_seq, last_written_at, agent_state, heartbeat_key_sealed';

/**
 * The heartbeat side's SQL: batched, conditional writes, so many replicas that all see every
 * heartbeat can write the same facts without fighting (a state change is applied only when the row
 * is not already in that state and holds no newer change; heartbeat fields only when the row's
 * last write is 30 s old; telemetry once per node and minute).
 */
@Injectable()
export class NodesRepository {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  async loadIdentities(): Promise<NodeIdentityRow[]> {
    return this.dataSource.query(`SELECT ${IDENTITY_COLUMNS} FROM nodes WHERE deleted_at IS NULL`);
  }

  async loadIdentity(nodeId: string): Promise<NodeIdentityRow | null> {
    const rows: NodeIdentityRow[] = await this.dataSource.query(`SELECT ${IDENTITY_COLUMNS} FROM nodes WHERE id = $1 AND deleted_at IS NULL`, [nodeId]);
    return rows[0] ?? null;
  }

  /**
   * Applies state changes, one per node per statement (a node that went online → suspect → offline
   * between two flushes gets both events, in order). Returns how many rows changed.
   */
  async applyStateChanges(changes: readonly StateChange[], writes: ReadonlyMap<string, HeartbeatWrite>): Promise<number> {
    let applied = 0;
    let pending = [...changes];
    while (pending.length > 0) {
      const round: StateChange[] = [];
      const later: StateChange[] = [];
      const seen = new Set<string>();
      for (const change of pending) {
        if (seen.has(change.nodeId)) later.push(change);
        else {
          seen.add(change.nodeId);
          round.push(change);
        }
      }
      const rows: unknown[] = await this.dataSource.query(
        `WITH v AS (
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::uuid[], $6::timestamptz[], $7::bigint[], $8::text[], $9::jsonb[], $10::jsonb[])
             AS v(node_id, to_state, at, reason, event_id, beat_at, seq, agent_state, telemetry, running_attempt)
         ),
         changed AS (
           UPDATE nodes n
              SET state = v.to_state,
                  state_changed_at = v.at,
                  last_heartbeat_at = COALESCE(v.beat_at, n.last_heartbeat_at),
                  last_seq = COALESCE(v.seq, n.last_seq),
                  agent_state = COALESCE(v.agent_state, n.agent_state),
                  last_telemetry = COALESCE(v.telemetry, n.last_telemetry),
                  running_attempt = CASE WHEN v.beat_at IS NULL THEN n.running_attempt ELSE v.running_attempt END
             FROM nodes old, v
            WHERE old.id = n.id AND n.id = v.node_id AND n.state <> v.to_state AND n.state_changed_at <= v.at AND n.deleted_at IS NULL
           RETURNING n.id, old.state AS from_state, v.to_state, v.at, v.reason, v.event_id
         )
         INSERT INTO node_state_events (id, node_id, from_state, to_state, at, reason)
         SELECT event_id, id, from_state, to_state, at, reason FROM changed
         RETURNING id`,
        [
          round.map((c) => c.nodeId),
          round.map((c) => c.to),
          round.map((c) => new Date(c.atMs)),
          round.map((c) => c.reason),
          round.map(() => this.newId()),
          round.map((c) => (writes.get(c.nodeId) ? new Date(writes.get(c.nodeId)!.atMs) : null)),
          round.map((c) => (writes.get(c.nodeId) ? String(writes.get(c.nodeId)!.seq) : null)),
          round.map((c) => writes.get(c.nodeId)?.agentState ?? null),
          round.map((c) => (writes.get(c.nodeId)?.gpus ? JSON.stringify(writes.get(c.nodeId)!.gpus) : null)),
          round.map((c) => (writes.get(c.nodeId)?.runningAttempt ? JSON.stringify(writes.get(c.nodeId)!.runningAttempt) : null)),
        ],
      );
      applied += rows.length;
      pending = later;
    }
    return applied;
  }

  /** Heartbeat fields, only where the row's last write is at least 30 s older than this one. */
  async writeHeartbeats(writes: readonly HeartbeatWrite[]): Promise<number> {
    if (writes.length === 0) return 0;
    const result: unknown = await this.dataSource.query(
      `UPDATE nodes n
          SET last_heartbeat_at = v.at, last_seq = v.seq, agent_state = v.agent_state, last_telemetry = v.telemetry,
              running_attempt = v.running_attempt, last_written_at = v.at
         FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[], $4::text[], $5::jsonb[], $6::jsonb[]) AS v(node_id, at, seq, agent_state, telemetry, running_attempt)
        WHERE n.id = v.node_id AND n.deleted_at IS NULL
          AND (n.last_written_at IS NULL OR n.last_written_at <= v.at - make_interval(secs => $7::double precision / 1000))
       RETURNING n.id`,
      [
        writes.map((w) => w.nodeId),
        writes.map((w) => new Date(w.atMs)),
        writes.map((w) => String(w.seq)),
        writes.map((w) => w.agentState),
        writes.map((w) => (w.gpus ? JSON.stringify(w.gpus) : null)),
        writes.map((w) => (w.runningAttempt ? JSON.stringify(w.runningAttempt) : null)),
        WRITE_INTERVAL_MS,
      ],
    );
    return returningRows(result).length;
  }

  /** One sample per node and minute; a replica that sampled the same minute adds nothing. */
  async insertTelemetry(samples: readonly TelemetrySample[]): Promise<number> {
    if (samples.length === 0) return 0;
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO node_telemetry (node_id, at, gpus, running_attempt_id)
       SELECT v.node_id, v.at, v.gpus, v.attempt FROM unnest($1::uuid[], $2::timestamptz[], $3::jsonb[], $4::text[]) AS v(node_id, at, gpus, attempt)
        WHERE EXISTS (SELECT 1 FROM nodes WHERE nodes.id = v.node_id)
       ON CONFLICT (node_id, at) DO NOTHING
       RETURNING node_id`,
      [
        samples.map((s) => s.nodeId),
        samples.map((s) => new Date(s.minuteMs)),
        samples.map((s) => JSON.stringify(s.gpus.map(compactGpu))),
        samples.map((s) => s.runningAttemptId),
      ],
    );
    return rows.length;
  }
}

/** What a telemetry sample keeps of a GPU. */
function compactGpu(gpu: { index: number; gpuId: string | null; utilizationPct: number | null; temperatureC: number | null; powerW: number | null; vramUsedMb: number | null; vramTotalMb: number | null }) {
  return {
    index: gpu.index,
    gpuId: gpu.gpuId,
    utilizationPct: gpu.utilizationPct,
    temperatureC: gpu.temperatureC,
    powerW: gpu.powerW,
    vramUsedMb: gpu.vramUsedMb,
    vramTotalMb: gpu.vramTotalMb,
  };
}
