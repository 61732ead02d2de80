import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';

/** bigint counters that stay far below 2^53 (steps, revisions), read as numbers. */
export const bigintNumberTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * One benchmark key's step-time aggregate from one source: 'observed' (finished runs, merged one
 * sample at a time) or 'public:<table file>' (the cold-start prior). No column here can identify a
 * user, org, job, node, dataset or IP; the key names a model family and size, never a model id.
 */
@Entity('benchmark_aggregates')
export class BenchmarkAggregateRow {
  @PrimaryColumn('text')
  key!: string;

  @Index('benchmark_aggregates_source_idx')
  @PrimaryColumn('text')
  source!: string;

  @Column('integer', { name: 'step_time_ms_count' })
  stepTimeMsCount!: number;

  @Column('double precision', { name: 'step_time_ms_mean' })
  stepTimeMsMean!: number;

  @Column('double precision', { name: 'step_time_ms_m2' })
  stepTimeMsM2!: number;

  @Column('integer', { name: 'log_step_time_ms_count' })
  logStepTimeMsCount!: number;

  @Column('double precision', { name: 'log_step_time_ms_mean' })
  logStepTimeMsMean!: number;

  @Column('double precision', { name: 'log_step_time_ms_m2' })
  logStepTimeMsM2!: number;

  @Column('bigint', { name: 'steps_observed', transformer: bigintNumberTransformer })
  stepsObserved!: number;

  @Column('integer', { name: 'validation_ms_per_prompt_count' })
  validationMsPerPromptCount!: number;

  @Column('double precision', { name: 'validation_ms_per_prompt_mean' })
  validationMsPerPromptMean!: number;

  @Column('double precision', { name: 'validation_ms_per_prompt_m2' })
  validationMsPerPromptM2!: number;

  /** From benchmark_aggregate_revision_seq on every write. */
  @Column('bigint', { transformer: bigintNumberTransformer })
  revision!: number;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
