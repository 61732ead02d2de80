import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../../core/clock/clock.js';

export const RELIABILITY_WINDOW_DAYS = 30;
const CACHE_MS = 60_000;

/**
 * Hook for job outcomes: the share of attempts on a node that finished without losing the machine
 * (1 when unknown). The scheduler provides it once attempts exist; reliability = uptime × this.
 */
export interface JobOutcomeSource {
  completionRates(nodeIds: readonly string[]): Promise<ReadonlyMap<string, number>>;
}
export const JOB_OUTCOME_SOURCE = Symbol('JOB_OUTCOME_SOURCE');

export interface NodeReliability {
  /** 0..1: time online (or suspect) over the last 30 days, from the node's state events. */
  uptime: number;
  /** 0..1: the job-outcome factor (1 until attempts are recorded). */
  jobCompletion: number;
  /** uptime × jobCompletion: what offers show. */
  reliability: number;
  windowS: number;
}

/**
 * Reliability of community nodes: uptime over the last 30 days (since registration when younger)
 * from `node_state_events`, times the job-outcome hook. Computed for all nodes in one query and
 * cached for a minute.
 */
@Injectable()
export class ReliabilityService {
  private cache: { atMs: number; values: Map<string, NodeReliability> } | null = null;
  private computing: Promise<Map<string, NodeReliability>> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(JOB_OUTCOME_SOURCE) private readonly outcomes?: JobOutcomeSource,
  ) {}

  /** Forget the cache (after state changes a test wants to see at once). */
  invalidate(): void {
    this.cache = null;
  }

  async forNodes(): Promise<Map<string, NodeReliability>> {
    const nowMs = this.clock.now().getTime();
    if (this.cache && nowMs - this.cache.atMs < CACHE_MS && nowMs >= this.cache.atMs) return this.cache.values;
    this.computing ??= this.compute(new Date(nowMs)).finally(() => (this.computing = null));
    const values = await this.computing;
    this.cache = { atMs: nowMs, values };
    return values;
  }

  async forNode(nodeId: string): Promise<NodeReliability> {
    return (await this.forNodes()).get(nodeId) ?? { uptime: 0, jobCompletion: 1, reliability: 0, windowS: 0 };
  }

  private async compute(now: Date): Promise<Map<string, NodeReliability>> {
    const rows: { node_id: string; window_s: number; up_s: number; penalty: number }[] = await this.dataSource.query(
      `WITH w AS (
         SELECT n.id, n.reliability_penalty, GREATEST(n.created_at, $1::timestamptz - make_interval(days => $2)) AS from_at
           FROM nodes n WHERE n.deleted_at IS NULL
       ),
       s AS (
         SELECT e.node_id, e.to_state, e.at, LEAD(e.at) OVER (PARTITION BY e.node_id ORDER BY e.at, e.id) AS next_at
           FROM node_state_events e JOIN w ON w.id = e.node_id
       )
       SELECT w.id AS node_id, w.reliability_penalty::float8 AS penalty,
              GREATEST(EXTRACT(EPOCH FROM ($1::timestamptz - w.from_at)), 0)::float8 AS window_s,
              COALESCE(SUM(GREATEST(EXTRACT(EPOCH FROM (LEAST(COALESCE(s.next_at, $1::timestamptz), $1::timestamptz) - GREATEST(s.at, w.from_at))), 0))
                FILTER (WHERE s.to_state IN ('online', 'suspect')), 0)::float8 AS up_s
         FROM w LEFT JOIN s ON s.node_id = w.id
        GROUP BY w.id, w.from_at, w.reliability_penalty`,
      [now, RELIABILITY_WINDOW_DAYS],
    );
    const completion = this.outcomes ? await this.outcomes.completionRates(rows.map((row) => row.node_id)) : new Map<string, number>();
    const values = new Map<string, NodeReliability>();
    for (const row of rows) {
      const uptime = row.window_s > 0 ? Math.min(1, Math.max(0, row.up_s / row.window_s)) : 0;
      // An admin's dispute penalty (0..1) scales the job-outcome factor down.
      const jobCompletion = (completion.get(row.node_id) ?? 1) * (1 - Math.min(1, Math.max(0, row.penalty ?? 0)));
      values.set(row.node_id, { uptime, jobCompletion, reliability: Math.round(uptime * jobCompletion * 1000) / 1000, windowS: Math.round(row.window_s) });
    }
    return values;
  }
}
