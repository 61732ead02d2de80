import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';

/** Where `npm run bench` puts its figures, relative to the repository root. */
export function benchmarksDocPath(root = process.env.ANNEAL_REPO_ROOT ?? process.cwd()): string {
  return resolve(root, 'docs', 'BENCHMARKS.md');
}

/** "AMD EPYC … (2 cores, 24 GiB), Node v20…, 2026-11-22 07:40 UTC": the machine and date of a figure. */
export function machineLine(now = new Date()): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const memoryGiB = Math.round(totalmem() / 2 ** 30);
  return `${cpu} (${cpus().length} cores, ${memoryGiB} GiB), Node ${process.version}, ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * Replaces the section between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` (appending it the
 * first time), so each benchmark rewrites only its own figures.
 */
export function writeBenchmarkSection(name: string, markdown: string, path = benchmarksDocPath()): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\nFigures written by `npm run bench`; each section names its machine and date.\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? `${current.slice(0, from)}${block}${current.slice(to + end.length)}` : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}

/** p-th percentile (0–100) of an unsorted sample, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
