#!/usr/bin/env node
// node apps/api/dist/cli/import-benchmarks.js [--dir libs/benchmarks/data/step-times]
// Imports the public step-time tables as the estimator's cold-start prior: one aggregate per
// (table, benchmark key), stored with source 'public:<file>'. Idempotent: every public row is
// replaced in one transaction (running it twice counts nothing twice); observed rows (learned from
// finished jobs) are never touched. Reads DATABASE_URL, or the URL of the running `npm start`.
// Afterwards it asks running API replicas (NATS_URL, NATS_SUBJECT_PREFIX) to reload, best effort.
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { createDataSource, runMigrationsLocked } from '../core/database/data-source.js';
import { benchmarkUpdatesSubject } from '../modules/benchmarks/benchmark-updates.js';
import { BenchmarksRepository } from '../modules/benchmarks/benchmarks.repository.js';
import { buildPublicPrior, defaultTablesDir, formatPriorReport, readPublicTables } from '../modules/benchmarks/public-prior.js';
import { localDatabaseUrl } from './local-runtime.js';

async function notifyReplicas(): Promise<string> {
  const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  try {
    const nc = await connect({ servers, timeout: 2000, maxReconnectAttempts: 0 });
    nc.publish(benchmarkUpdatesSubject(process.env.NATS_SUBJECT_PREFIX ?? ''), JSON.stringify({ schemaVersion: 1, type: 'reload' }));
    await nc.drain();
    return 'running API replicas were asked to reload their benchmark snapshot';
  } catch {
    return `NATS at ${servers} not reachable: running API replicas pick the new prior up when they restart`;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  const dir = values.dir ?? process.env.BENCHMARK_TABLES_DIR ?? defaultTablesDir();
  if (!dir) {
    process.stderr.write('Cannot find libs/benchmarks/data/step-times; give --dir <directory of the public tables>.\n');
    return 2;
  }
  const url = process.env.DATABASE_URL ?? localDatabaseUrl();
  if (!url) {
    process.stderr.write('Set DATABASE_URL, or start Anneal with `npm start` first.\n');
    return 2;
  }
  const build = buildPublicPrior(readPublicTables(dir));
  const dataSource = await createDataSource(url, 2).initialize();
  try {
    await runMigrationsLocked(dataSource);
    const result = await new BenchmarksRepository(dataSource).replacePublicRows(build.rows, new Date());
    const skipped = build.tables.reduce((sum, t) => sum + t.unmapped, 0);
    const imported = build.tables.reduce((sum, t) => sum + t.imported, 0);
    process.stdout.write(`${formatPriorReport(build).join('\n')}\n`);
    process.stdout.write(
      `Imported ${imported} public step-time rows as ${result.inserted} benchmark aggregates (replacing ${result.replaced} public ones; observed ones untouched); skipped ${skipped} unmapped step-time rows.\n`,
    );
  } finally {
    await dataSource.destroy();
  }
  process.stdout.write(`${await notifyReplicas()}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`import-benchmarks failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
