#!/usr/bin/env node
// `npm run bench -- ledger`: the ledger store under concurrent callers, in a database of its own.
// Needs ANNEAL_TEST_PG_URL (a PostgreSQL server URL; scripts/bench.mjs sets it). Writes the
// "ledger" section of docs/BENCHMARKS.md.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { runLedgerBench, type LedgerBenchResult } from '@anneal/billing';
import pg from 'pg';
import { machineLine, writeBenchmarkSection } from './bench-doc.js';

const CALLERS = 8;
const DURATION_MS = Number(process.env.LEDGER_BENCH_DURATION_MS ?? 10_000);
const TARGET_PER_SECOND = 2_000;
/** The whole run (database, warm-up, measurement, verification) never takes longer than this. */
const HARD_LIMIT_MS = DURATION_MS + 120_000;

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withServer<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function ledgerBenchMarkdown(result: LedgerBenchResult, loadAverage: number, now = new Date()): string {
  const outcomes = Object.entries(result.outcomes)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  return [
    '## Ledger',
    '',
    `Machine: ${machineLine(now)}; load average ${loadAverage.toFixed(1)} when it started (other work on the machine lowers the figure).`,
    '',
    `\`runLedgerBench\` against PostgreSQL through the API's store (\`PgLedgerStore\`, group commit on, 16 stripes on the hot platform revenue account): ` +
      `${result.callers} concurrent callers for ${(result.elapsedMs / 1000).toFixed(1)} s mixing linked plain transfers (org → provider and org → platform revenue), ` +
      'holds, partial posts with provider and fee legs (linked batches of three), and voids.',
    '',
    '| figure | value |',
    '| --- | --- |',
    `| transfers per second | **${result.transfersPerSecond.toLocaleString('en-US')}** (target ≥ ${TARGET_PER_SECOND.toLocaleString('en-US')}) |`,
    `| transfers created | ${result.transfers.toLocaleString('en-US')} |`,
    `| batches | ${result.batches.toLocaleString('en-US')} |`,
    `| other outcomes | ${outcomes || 'none'} |`,
    `| invariants afterwards (sums to zero, limits, balances = replay of the transfers, one resolution per hold) | ${result.verified ? 'verified: no violation' : `**${result.invariantViolations.length} violation(s)**`} |`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const serverUrl = process.env.ANNEAL_TEST_PG_URL;
  if (!serverUrl) throw new Error('ANNEAL_TEST_PG_URL (a PostgreSQL server URL) is required; run it through `npm run bench -- ledger`');
  const name = `anneal_bench_ledger_${randomBytes(4).toString('hex')}`;
  await withServer(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const pool = new pg.Pool({ connectionString: databaseUrl(serverUrl, name), max: 12 });
  pool.on('error', () => {}); // an idle connection cut by the final DROP DATABASE is expected
  const limit = setTimeout(() => {
    process.stderr.write(`ledger bench: exceeded ${HARD_LIMIT_MS} ms; giving up\n`);
    process.exit(1);
  }, HARD_LIMIT_MS);
  limit.unref();
  try {
    const loadAverage = loadavg()[0] ?? 0;
    const result = await runLedgerBench({ pool, callers: CALLERS, durationMs: DURATION_MS });
    const markdown = ledgerBenchMarkdown(result, loadAverage);
    writeBenchmarkSection('ledger', markdown);
    process.stdout.write(`${markdown}\n`);
    if (!result.verified) {
      process.stderr.write(`ledger bench: invariant violations:\n${result.invariantViolations.join('\n')}\n`);
      process.exitCode = 1;
    }
  } finally {
    clearTimeout(limit);
    await pool.end();
    await withServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`ledger bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
