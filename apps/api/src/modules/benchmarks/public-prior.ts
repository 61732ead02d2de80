/**
 * The cold-start prior: the public step-time tables in `libs/benchmarks/data/step-times`, parsed by
 * `@anneal/benchmarks` into one aggregate per (table, key), stored with `source = 'public:<file>'`.
 * Used by `node apps/api/dist/cli/import-benchmarks.js` and by the API's first boot.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PUBLIC_TABLES, aggregatePriorSamples, parsePublicTable, summarizeUnmapped, type StepTimeAggregate, type UnmappedReason } from '@anneal/benchmarks';
import { PUBLIC_SOURCE_PREFIX } from './benchmarks.repository.js';

const TABLES_SUBDIR = join('libs', 'benchmarks', 'data', 'step-times');

/** The tables directory: walks up from this file to the repository root's libs/benchmarks/data. */
export function defaultTablesDir(start = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = start;
  for (let i = 0; i < 10; i += 1) {
    const candidate = join(dir, TABLES_SUBDIR);
    if (existsSync(candidate)) return candidate;
    const parent = resolve(dir, '..');
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

export interface PriorTableReport {
  table: string;
  rowsRead: number;
  /** Step-time rows that became samples. */
  imported: number;
  keys: number;
  /** Step-time rows that could not be mapped, by reason. */
  unmapped: number;
  /** Rows that are not step times (throughput, time to train), by metric. */
  notStepTimes: number;
}

export interface PriorBuild {
  rows: Array<{ key: string; source: string; aggregate: StepTimeAggregate }>;
  tables: PriorTableReport[];
  unmappedReasons: Array<{ table: string; reason: UnmappedReason; detail: string; rows: number }>;
}

/** Reads the four tables; a missing file is an error naming it. */
export function readPublicTables(dir: string): Record<string, string> {
  const tables: Record<string, string> = {};
  for (const table of PUBLIC_TABLES) {
    const path = join(dir, table);
    if (!existsSync(path)) throw new Error(`public step-time table ${path} is missing`);
    tables[table] = readFileSync(path, 'utf8');
  }
  return tables;
}

/** Parses the tables into rows for benchmark_aggregates, with a report of what was skipped and why. */
export function buildPublicPrior(tables: Readonly<Record<string, string>>): PriorBuild {
  const rows: PriorBuild['rows'] = [];
  const reports: PriorTableReport[] = [];
  const unmapped = [];
  for (const [table, text] of Object.entries(tables)) {
    const parsed = parsePublicTable(table, text);
    const aggregates = aggregatePriorSamples(parsed.samples);
    for (const { key, aggregate } of aggregates) rows.push({ key, source: `${PUBLIC_SOURCE_PREFIX}${table}`, aggregate });
    unmapped.push(...parsed.unmapped);
    reports.push({
      table,
      rowsRead: parsed.rowsRead,
      imported: parsed.samples.length,
      keys: aggregates.length,
      unmapped: parsed.unmapped.length,
      notStepTimes: Object.values(parsed.skipped).reduce((sum, n) => sum + n, 0),
    });
  }
  return { rows, tables: reports, unmappedReasons: summarizeUnmapped(unmapped) };
}

/** Lines for people: per table, then the skipped step-time rows by reason. */
export function formatPriorReport(build: PriorBuild): string[] {
  const lines = build.tables.map(
    (t) => `${t.table}: ${t.rowsRead} rows read, ${t.imported} step-time rows imported into ${t.keys} keys, ${t.unmapped} step-time rows skipped (unmapped), ${t.notStepTimes} rows are not step times`,
  );
  for (const u of build.unmappedReasons) lines.push(`  skipped ${u.rows} × ${u.table} ${u.reason}: ${u.detail}`);
  return lines;
}
