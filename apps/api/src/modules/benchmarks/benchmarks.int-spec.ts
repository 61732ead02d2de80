import { randomUUID } from 'node:crypto';
import { expectEventually } from '@anneal/test/support';
import { benchmarkSamplesSubject } from '@anneal/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../testing/test-app.js';
import { BenchmarkSnapshotService } from './benchmark-snapshot.service.js';
import { BenchmarksRepository } from './benchmarks.repository.js';
import { BenchmarksScheduler } from './benchmarks.scheduler.js';
import { BenchmarksService } from './benchmarks.service.js';
import { buildPublicPrior, defaultTablesDir, readPublicTables } from './public-prior.js';

const encoder = new TextEncoder();

/** A protocol sample (what a finished attempt reports), for a key no public table has. */
function protocolSample(overrides: Record<string, unknown> = {}) {
  return {
    schemaVersion: 1,
    baseModelId: 'meta-llama/Llama-3.1-8B',
    method: 'lora',
    precision: 'bf16',
    quantization: null,
    sequenceLength: 1536,
    imageMegapixels: null,
    batchSize: 3,
    gradientAccumulation: 5,
    gpuId: 'rtx-4090',
    gpuCount: 1,
    stepTimeMsMean: 1234,
    stepTimeMsVariance: 40,
    stepsObserved: 200,
    validationTimePerPromptMsMean: null,
    validationPromptsObserved: 0,
    simulated: false,
    ...overrides,
  };
}
const SAMPLE_KEY = 'llama-3/8.03b/lora|rtx-4090x1|seq1536|b3|ga5|bf16|none';

describe('benchmarks (real Postgres + NATS)', () => {
  let t: TestApp;
  let benchmarks: BenchmarksService;
  let snapshots: BenchmarkSnapshotService;

  beforeAll(async () => {
    t = await startTestApp();
    benchmarks = t.app.get(BenchmarksService);
    snapshots = t.app.get(BenchmarkSnapshotService);
  });
  afterAll(() => t?.close());

  async function publish(body: unknown): Promise<void> {
    await t.app.get(BenchmarksService)['nats'].jetstream.publish(benchmarkSamplesSubject(t.config.NATS_SUBJECT_PREFIX), encoder.encode(JSON.stringify(body)));
  }

  async function observedRow(key: string): Promise<{ step_time_ms_count: number; steps_observed: string } | undefined> {
    const rows = (await t.dataSource.query(`SELECT step_time_ms_count, steps_observed FROM benchmark_aggregates WHERE key = $1 AND source = 'observed'`, [key])) as Array<{
      step_time_ms_count: number;
      steps_observed: string;
    }>;
    return rows[0];
  }

  it('holds no column that could identify a user, org, job, node, dataset or IP', async () => {
    const columns = async (table: string) =>
      ((await t.dataSource.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name`, [table])) as Array<{ column_name: string }>).map(
        (r) => r.column_name,
      );
    expect(await columns('benchmark_aggregates')).toEqual(
      [
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
      ].sort(),
    );
    expect(await columns('provisioning_aggregates')).toEqual(['provider_kind', 'seconds_count', 'seconds_m2', 'seconds_mean', 'updated_at']);
    expect(await columns('benchmark_sample_receipts')).toEqual(['received_at', 'sample_id']);
  });

  it('imports the public tables at first boot, marked with their table, and loads them into the snapshot', async () => {
    const rows = (await t.dataSource.query(`SELECT source, count(*)::int AS n FROM benchmark_aggregates GROUP BY source ORDER BY source`)) as Array<{ source: string; n: number }>;
    expect(rows.map((r) => r.source)).toEqual([
      'public:lambda_dlbenchmark_pytorch.csv',
      'public:llm_finetune_lora_qlora_tables.csv',
      'public:mlperf_training_llama2_70b_lora.csv',
      'public:simpletuner_segmented_checkpointing_h100_l40s.csv',
    ]);
    expect(rows.reduce((sum, r) => sum + r.n, 0)).toBeGreaterThan(300);
    expect(snapshots.snapshot.size).toBeGreaterThan(300);
    expect(t.logLines.some((line) => line.includes('imported the public benchmark prior') && line.includes('skipped (unmapped)'))).toBe(true);
  });

  it('merges a sample once even when the message is delivered twice, and every snapshot takes it', async () => {
    const before = snapshots.version;
    const sampleId = randomUUID();
    await publish({ sampleId, sample: protocolSample() });
    await publish({ sampleId, sample: protocolSample() });
    await expectEventually(() => expect(benchmarks.sampleCounts()).toMatchObject({ merged: 1, duplicate: 1 }));
    expect(await observedRow(SAMPLE_KEY)).toEqual({ step_time_ms_count: 1, steps_observed: '200' });
    const receipts = (await t.dataSource.query(`SELECT count(*)::int AS n FROM benchmark_sample_receipts WHERE sample_id = $1`, [sampleId])) as Array<{ n: number }>;
    expect(receipts[0]!.n).toBe(1);
    await expectEventually(() => expect(snapshots.snapshot.get(SAMPLE_KEY)?.stepTimeMs).toEqual({ count: 1, mean: 1234, m2: 0 }));
    expect(snapshots.version).toBeGreaterThan(before);

    // A second run of the same key, with its own sample id, adds to it.
    await publish({ sampleId: randomUUID(), sample: protocolSample({ stepTimeMsMean: 1334 }) });
    await expectEventually(() => expect(snapshots.snapshot.get(SAMPLE_KEY)?.stepTimeMs.count).toBe(2));
    expect(snapshots.snapshot.get(SAMPLE_KEY)?.stepTimeMs.mean).toBeCloseTo(1284, 6);
    expect((await observedRow(SAMPLE_KEY))?.step_time_ms_count).toBe(2);
  });

  it('rejects (does not strip) a sample with an identifying field, and counts it', async () => {
    const key = 'llama-3/8.03b/lora|rtx-4090x1|seq1536|b3|ga7|bf16|none';
    await publish({ sampleId: randomUUID(), sample: protocolSample({ gradientAccumulation: 7, userId: '0190f0f0-0000-7000-8000-000000000001' }) });
    await publish({
      sampleId: randomUUID(),
      sample: { family: 'llama-3', paramsB: 8.03, method: 'lora', gpuId: 'rtx-4090', gpuCount: 1, shape: { kind: 'seq', seqLen: 1536 }, batchSize: 3, gradAccum: 7, precision: 'bf16', quantization: 'none', stepTimeMs: 900, stepsObserved: 10, nodeId: 'n1' },
    });
    await expectEventually(() => expect(benchmarks.sampleCounts().rejected_unexpected_fields).toBe(2));
    expect(await observedRow(key)).toBeUndefined();
    expect(snapshots.snapshot.get(key)).toBeUndefined();
    const warned = t.logLines.filter((line) => line.includes('benchmark sample rejected'));
    expect(warned.some((line) => line.includes('userId'))).toBe(true);
    expect(warned.some((line) => line.includes('0190f0f0-0000-7000-8000-000000000001'))).toBe(false);
  });

  it('drops samples of simulated nodes: they never feed real estimates', async () => {
    const key = 'llama-3/8.03b/lora|rtx-4090x1|seq1536|b3|ga9|bf16|none';
    await publish({ sampleId: randomUUID(), sample: protocolSample({ gradientAccumulation: 9, simulated: true }) });
    await expectEventually(() => expect(benchmarks.sampleCounts().simulated).toBe(1));
    expect(await observedRow(key)).toBeUndefined();
  });

  it('importing the public tables twice counts nothing twice and never touches observed rows', async () => {
    const totals = async () =>
      (await t.dataSource.query(
        `SELECT source = 'observed' AS observed, count(*)::int AS keys, sum(step_time_ms_count)::int AS runs FROM benchmark_aggregates GROUP BY 1 ORDER BY 1`,
      )) as Array<{ observed: boolean; keys: number; runs: number }>;
    const before = await totals();
    const build = buildPublicPrior(readPublicTables(defaultTablesDir()!));
    const repository = t.app.get(BenchmarksRepository);
    const first = await repository.replacePublicRows(build.rows, new Date());
    const afterFirst = await totals();
    const second = await repository.replacePublicRows(build.rows, new Date());
    expect(await totals()).toEqual(afterFirst);
    expect(afterFirst).toEqual(before);
    expect(first.inserted).toBe(build.rows.length);
    expect(second.replaced).toBe(build.rows.length);
    expect(afterFirst.find((r) => r.observed)?.runs).toBe(2);
    // The boot-time import does nothing once public rows exist.
    expect((await repository.replacePublicRows(build.rows, new Date(), { onlyIfEmpty: true })).skipped).toBe(true);
    // 750 step-time rows become samples; the rest are reported with a reason, never guessed.
    expect(build.tables.reduce((sum, table) => sum + table.imported, 0)).toBe(750);
    expect(build.unmappedReasons.length).toBeGreaterThan(0);
  });

  it('records provisioning overhead per provider kind and the snapshot takes it', async () => {
    await benchmarks.recordProvisioning('runpod', 90);
    await benchmarks.recordProvisioning('runpod', 110);
    await expectEventually(() => expect(snapshots.snapshot.provisioning('runpod')).toEqual({ count: 2, mean: 100, m2: 200 }));
  });

  it('reloads from the database when told to (after a CLI import), keeping what it had', async () => {
    const key = 'llama-3/8.03b/lora|rtx-4090x1|seq1536|b3|ga11|bf16|none';
    await t.dataSource.query(
      `INSERT INTO benchmark_aggregates (key, source, step_time_ms_count, step_time_ms_mean, step_time_ms_m2, log_step_time_ms_count, log_step_time_ms_mean, log_step_time_ms_m2,
         steps_observed, validation_ms_per_prompt_count, validation_ms_per_prompt_mean, validation_ms_per_prompt_m2, revision, updated_at)
       VALUES ($1, 'public:manual.csv', 1, 500, 0, 1, $2, 0, 0, 0, 0, 0, nextval('benchmark_aggregate_revision_seq'), now())`,
      [key, Math.log(500)],
    );
    expect(snapshots.snapshot.get(key)).toBeUndefined();
    const version = snapshots.version;
    t.app.get(BenchmarksService)['nats'].connection.publish(`${t.config.NATS_SUBJECT_PREFIX}.anneal.benchmarks.updated`, JSON.stringify({ schemaVersion: 1, type: 'reload' }));
    await expectEventually(() => expect(snapshots.snapshot.get(key)?.stepTimeMs).toEqual({ count: 1, mean: 500, m2: 0 }));
    expect(snapshots.version).toBeGreaterThan(version);
    expect(snapshots.snapshot.get(SAMPLE_KEY)?.stepTimeMs.count).toBe(2);
  });

  it('prunes sample receipts after 30 days, keeping recent ones', async () => {
    const old = randomUUID();
    const recent = randomUUID();
    await t.dataSource.query(`INSERT INTO benchmark_sample_receipts (sample_id, received_at) VALUES ($1, now() - interval '31 days'), ($2, now() - interval '29 days')`, [old, recent]);
    expect(await t.app.get(BenchmarksScheduler).pruneReceipts()).toBe(1);
    const left = (await t.dataSource.query('SELECT sample_id FROM benchmark_sample_receipts WHERE sample_id = ANY($1)', [[old, recent]])) as Array<{ sample_id: string }>;
    expect(left.map((r) => r.sample_id)).toEqual([recent]);
  });
});
