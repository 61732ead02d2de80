import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { JOB_OUTCOME_SOURCE, RELIABILITY_WINDOW_DAYS, type JobOutcomeSource } from '../nodes/reliability.service.js';

/**
 * The job-outcome factor of node reliability: of the attempts a node ended in the last 30 days,
 * the share that did not end because the node failed (lost or errored). 1 with no history.
 * Global, so the nodes module can use it without depending on the jobs module.
 */
@Injectable()
export class AttemptOutcomes implements JobOutcomeSource {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async completionRates(nodeIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    if (nodeIds.length === 0) return new Map();
    const since = new Date(this.clock.now().getTime() - RELIABILITY_WINDOW_DAYS * 86_400_000);
    const rows: { node_id: string; ok: number; failed: number }[] = await this.dataSource.query(
      `SELECT node_id,
              count(*) FILTER (WHERE end_reason = 'completed')::int AS ok,
              count(*) FILTER (WHERE end_reason IN ('node_lost', 'error') AND running_at IS NOT NULL)::int AS failed
         FROM attempts WHERE node_id = ANY($1) AND ended_at >= $2 GROUP BY node_id`,
      [nodeIds, since],
    );
    return new Map(rows.filter((r) => r.ok + r.failed > 0).map((r) => [r.node_id, r.ok / (r.ok + r.failed)]));
  }
}

@Global()
@Module({ providers: [{ provide: JOB_OUTCOME_SOURCE, useClass: AttemptOutcomes }], exports: [JOB_OUTCOME_SOURCE] })
export class JobOutcomesModule {}
