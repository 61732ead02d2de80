/**
 * `npm run eval:estimator`: leave-one-out evaluation on the public step-time tables. Prints the
 * results and writes them into docs/BENCHMARKS.md under "## Estimator accuracy (leave-one-out)".
 *
 *   node libs/benchmarks/dist/eval/eval-cli.js [--data DIR] [--docs FILE] [--no-write]
 *
 * DIR defaults to the repository's copy in libs/benchmarks/data/step-times (else ../shared/datasets/step-times).
 * Reads files, argv and os only (no environment variables).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getGpu } from '../catalog/gpu-catalog.js';
import { keyToString } from '../key/benchmark-key.js';
import { PUBLIC_TABLES, parsePublicTable, summarizeUnmapped } from '../public-tables/public-tables.js';
import { leaveGpuOut, leaveOneRowOut, renderAccuracySection, replaceAccuracySection, summarize, summarizeByTableAndBasis } from './leave-one-out.js';

function argValue(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

function main(args: readonly string[]): number {
  const here = dirname(fileURLToPath(import.meta.url));
  const repoRoot = resolve(here, '../../../..');
  const dataDir =
    argValue(args, '--data') ??
    [resolve(repoRoot, 'libs/benchmarks/data/step-times'), resolve(repoRoot, '../shared/datasets/step-times')].find((dir) => existsSync(dir));
  if (!dataDir || !existsSync(dataDir)) {
    process.stderr.write('eval:estimator: no step-time tables found; pass --data DIR\n');
    return 2;
  }
  const docsPath = argValue(args, '--docs') ?? join(repoRoot, 'docs', 'BENCHMARKS.md');

  const results = PUBLIC_TABLES.filter((table) => existsSync(join(dataDir, table))).map((table) => parsePublicTable(table, readFileSync(join(dataDir, table), 'utf8')));
  const samples = results.flatMap((r) => r.samples);
  const unmapped = summarizeUnmapped(results.flatMap((r) => r.unmapped));
  for (const r of results) {
    process.stdout.write(`${r.table}: ${r.rowsRead} rows, ${r.samples.length} step-time samples, ${r.unmapped.length} step-time rows unmapped\n`);
  }

  const started = Date.now();
  const records = [...leaveOneRowOut(samples), ...leaveGpuOut(samples)];
  const rows = summarizeByTableAndBasis(records);

  const perGpu: string[] = ['### Whole-GPU hold-out, per GPU', '', '| GPU | rows | median APE | p90 APE | p10–p90 coverage |', '| --- | ---: | ---: | ---: | ---: |'];
  const gpuRecords = records.filter((r) => r.mode === 'gpu');
  for (const gpuId of [...new Set(gpuRecords.map((r) => r.gpuId))].sort()) {
    const s = summarize(gpuRecords.filter((r) => r.gpuId === gpuId));
    perGpu.push(`| ${getGpu(gpuId).name} | ${s.n} | ${(s.medianApe * 100).toFixed(1)}% | ${(s.p90Ape * 100).toFixed(1)}% | ${(s.coverage * 100).toFixed(1)}% |`);
  }

  const cpu = cpus();
  const machine = `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores`;
  const dateUtc = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const section = renderAccuracySection({
    rows,
    machine,
    dateUtc,
    sampleCount: samples.length,
    keyCount: new Set(samples.map((s) => keyToString(s.key))).size,
    unmapped,
    notes: perGpu,
  });
  process.stdout.write(`\n${section}\n`);
  process.stdout.write(`(evaluated ${records.length} estimates in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

  if (!args.includes('--no-write')) {
    const existing = existsSync(docsPath) ? readFileSync(docsPath, 'utf8') : '# Benchmarks and the estimator\n\n';
    writeFileSync(docsPath, replaceAccuracySection(existing, section));
    process.stdout.write(`wrote ${docsPath}\n`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
