import { Injectable } from '@nestjs/common';
import { mergeAggregates, mergeMoments, type Moments, type ProvisioningAggregate, type StepTimeAggregate } from '@anneal/benchmarks';
import { DataSource, type EntityManager } from 'typeorm';
import { returningRows } from '../../core/database/returning-rows.js';
import { BenchmarkAggregateRow } from './entities/benchmark-aggregate.entity.js';
import { ProvisioningAggregateRow } from './entities/provisioning-aggregate.entity.js';

export const OBSERVED_SOURCE = 'observed';
export const PUBLIC_SOURCE_PREFIX = 'public:';

export interface StoredAggregate {
  key: string;
  source: string;
  aggregate: StepTimeAggregate;
  revision: number;
}

/** Serializes imports of the public tables across replicas and the CLI ("bnch"). */
const IMPORT_LOCK_KEY = 0x626e6368;

function toAggregate(row: BenchmarkAggregateRow): StepTimeAggregate {
  return {
    stepTimeMs: { count: row.stepTimeMsCount, mean: row.stepTimeMsMean, m2: row.stepTimeMsM2 },
    logStepTimeMs: { count: row.logStepTimeMsCount, mean: row.logStepTimeMsMean, m2: row.logStepTimeMsM2 },
    stepsObserved: row.stepsObserved,
    validationMsPerPrompt: { count: row.validationMsPerPromptCount, mean: row.validationMsPerPromptMean, m2: row.validationMsPerPromptM2 },
  };
}

function toColumns(aggregate: StepTimeAggregate): Omit<BenchmarkAggregateRow, 'key' | 'source' | 'revision' | 'updatedAt'> {
  return {
    stepTimeMsCount: aggregate.stepTimeMs.count,
    stepTimeMsMean: aggregate.stepTimeMs.mean,
    stepTimeMsM2: aggregate.stepTimeMs.m2,
    logStepTimeMsCount: aggregate.logStepTimeMs.count,
    logStepTimeMsMean: aggregate.logStepTimeMs.mean,
    logStepTimeMsM2: aggregate.logStepTimeMs.m2,
    stepsObserved: aggregate.stepsObserved,
    validationMsPerPromptCount: aggregate.validationMsPerPrompt.count,
    validationMsPerPromptMean: aggregate.validationMsPerPrompt.mean,
    validationMsPerPromptM2: aggregate.validationMsPerPrompt.m2,
  };
}

const COLUMNS = [
  'key',
  'source',
  'step_time_ms_count',
  'step_time_ms_mean',
  'step_time_ms_m2',
  'log_step_time_ms_count',
  'log_step_time_ms_mean',
  'log_step_time_ms_m2',
  'steps_observed',
  'validation_ms_per_prompt_count',
  'validation_ms_per_prompt_mean',
  'validation_ms_per_prompt_m2',
  'revision',
  'updated_at',
] as const;

function rowValues(key: string, source: string, aggregate: StepTimeAggregate): unknown[] {
  const c = toColumns(aggregate);
  return [
    key,
    source,
    c.stepTimeMsCount,
    c.stepTimeMsMean,
    c.stepTimeMsM2,
    c.logStepTimeMsCount,
    c.logStepTimeMsMean,
    c.logStepTimeMsM2,
    c.stepsObserved,
    c.validationMsPerPromptCount,
    c.validationMsPerPromptMean,
    c.validationMsPerPromptM2,
  ];
}

/** The only place that speaks SQL for benchmark aggregates, receipts and provisioning. */
@Injectable()
export class BenchmarksRepository {
  constructor(private readonly dataSource: DataSource) {}

  async loadAll(): Promise<{ stepTimes: StoredAggregate[]; provisioning: Array<{ providerKind: string; aggregate: ProvisioningAggregate }> }> {
    const rows = await this.dataSource.getRepository(BenchmarkAggregateRow).find();
    const provisioning = await this.dataSource.getRepository(ProvisioningAggregateRow).find();
    return {
      stepTimes: rows.map((row) => ({ key: row.key, source: row.source, aggregate: toAggregate(row), revision: row.revision })),
      provisioning: provisioning.map((row) => ({ providerKind: row.providerKind, aggregate: { count: row.secondsCount, mean: row.secondsMean, m2: row.secondsM2 } })),
    };
  }

  async countPublicRows(): Promise<number> {
    const [row] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM benchmark_aggregates WHERE source LIKE 'public:%'`)) as Array<{ n: number }>;
    return row?.n ?? 0;
  }

  /**
   * Replaces every public-prior row with `rows` in one transaction (observed rows are never
   * touched), so importing twice leaves the same rows. With `onlyIfEmpty`, does nothing when public
   * rows exist (the boot-time import; replicas booting together import once).
   */
  async replacePublicRows(
    rows: ReadonlyArray<{ key: string; source: string; aggregate: StepTimeAggregate }>,
    now: Date,
    options: { onlyIfEmpty?: boolean } = {},
  ): Promise<{ replaced: number; inserted: number; skipped: boolean }> {
    for (const row of rows) if (!row.source.startsWith(PUBLIC_SOURCE_PREFIX)) throw new Error(`public rows must have a 'public:' source, not '${row.source}'`);
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK_KEY]);
      if (options.onlyIfEmpty) {
        const [existing] = (await manager.query(`SELECT count(*)::int AS n FROM benchmark_aggregates WHERE source LIKE 'public:%'`)) as Array<{ n: number }>;
        if ((existing?.n ?? 0) > 0) return { replaced: 0, inserted: 0, skipped: true };
      }
      const deleted = returningRows<{ key: string }>(await manager.query(`DELETE FROM benchmark_aggregates WHERE source LIKE 'public:%' RETURNING key`));
      const batch = 500;
      for (let i = 0; i < rows.length; i += batch) await this.insertRows(manager, rows.slice(i, i + batch), now);
      return { replaced: deleted.length, inserted: rows.length, skipped: false };
    });
  }

  private async insertRows(manager: EntityManager, rows: ReadonlyArray<{ key: string; source: string; aggregate: StepTimeAggregate }>, now: Date): Promise<void> {
    if (rows.length === 0) return;
    const params: unknown[] = [];
    const tuples = rows.map((row) => {
      const values = [...rowValues(row.key, row.source, row.aggregate), now];
      const placeholders = values.map((value) => {
        params.push(value);
        return `$${params.length}`;
      });
      // revision comes before updated_at in COLUMNS.
      placeholders.splice(placeholders.length - 1, 0, `nextval('benchmark_aggregate_revision_seq')`);
      return `(${placeholders.join(', ')})`;
    });
    await manager.query(`INSERT INTO benchmark_aggregates (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params);
  }

  /**
   * Merges one observed sample into its key, once: the receipt insert and the aggregate update are
   * one transaction, and a sample id seen before changes nothing (`merged: false`).
   */
  async mergeObservedSample(sampleId: string, key: string, sample: StepTimeAggregate, now: Date): Promise<{ merged: false } | { merged: true; revision: number; aggregate: StepTimeAggregate }> {
    return this.dataSource.transaction(async (manager) => {
      const receipt = (await manager.query(
        `INSERT INTO benchmark_sample_receipts (sample_id, received_at) VALUES ($1, $2) ON CONFLICT (sample_id) DO NOTHING RETURNING sample_id`,
        [sampleId, now],
      )) as unknown[];
      if (receipt.length === 0) return { merged: false as const };
      await manager.query(
        `INSERT INTO benchmark_aggregates (${COLUMNS.join(', ')}) VALUES ($1, $2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, $3) ON CONFLICT (key, source) DO NOTHING`,
        [key, OBSERVED_SOURCE, now],
      );
      const [current] = await manager
        .getRepository(BenchmarkAggregateRow)
        .createQueryBuilder('a')
        .where('a.key = :key AND a.source = :source', { key, source: OBSERVED_SOURCE })
        .setLock('pessimistic_write')
        .getMany();
      if (!current) throw new Error(`benchmark aggregate ${key} vanished inside its transaction`);
      const merged = mergeAggregates(toAggregate(current), sample);
      const values = rowValues(key, OBSERVED_SOURCE, merged).slice(2);
      const [updated] = returningRows<{ revision: string }>(
        await manager.query(
        `UPDATE benchmark_aggregates SET
           step_time_ms_count = $3, step_time_ms_mean = $4, step_time_ms_m2 = $5,
           log_step_time_ms_count = $6, log_step_time_ms_mean = $7, log_step_time_ms_m2 = $8,
           steps_observed = $9,
           validation_ms_per_prompt_count = $10, validation_ms_per_prompt_mean = $11, validation_ms_per_prompt_m2 = $12,
           revision = nextval('benchmark_aggregate_revision_seq'), updated_at = $13
         WHERE key = $1 AND source = $2
         RETURNING revision::text AS revision`,
          [key, OBSERVED_SOURCE, ...values, now],
        ),
      );
      return { merged: true as const, revision: Number(updated!.revision), aggregate: merged };
    });
  }

  /** Deletes sample receipts older than `cutoff`; returns how many. */
  async deleteReceiptsBefore(cutoff: Date): Promise<number> {
    const result = (await this.dataSource.query('DELETE FROM benchmark_sample_receipts WHERE received_at < $1', [cutoff])) as [unknown, number];
    return result[1] ?? 0;
  }

  /** Adds provisioning-overhead observations (seconds) for a provider kind. */
  async mergeProvisioning(providerKind: string, observed: Moments, now: Date): Promise<Moments> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO provisioning_aggregates (provider_kind, seconds_count, seconds_mean, seconds_m2, updated_at) VALUES ($1, 0, 0, 0, $2) ON CONFLICT (provider_kind) DO NOTHING`,
        [providerKind, now],
      );
      const [row] = (await manager.query(`SELECT seconds_count, seconds_mean, seconds_m2 FROM provisioning_aggregates WHERE provider_kind = $1 FOR UPDATE`, [providerKind])) as Array<{
        seconds_count: number;
        seconds_mean: number;
        seconds_m2: number;
      }>;
      const merged = mergeMoments({ count: row!.seconds_count, mean: row!.seconds_mean, m2: row!.seconds_m2 }, observed);
      await manager.query(`UPDATE provisioning_aggregates SET seconds_count = $2, seconds_mean = $3, seconds_m2 = $4, updated_at = $5 WHERE provider_kind = $1`, [
        providerKind,
        merged.count,
        merged.mean,
        merged.m2,
        now,
      ]);
      return merged;
    });
  }
}
