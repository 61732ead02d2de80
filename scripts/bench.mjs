#!/usr/bin/env node
// `npm run bench`: every benchmark, against real PostgreSQL and NATS (the machine's, or embedded
// ones), each writing its own section of docs/BENCHMARKS.md with the machine and date.
// Run one with `npm run bench -- heartbeats`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureNats, ensurePostgres, log, stopServices } from './lib/services.mjs';

const root = resolve(import.meta.dirname, '..');
/** name → built script (relative to the repository root). Each is a plain node script. */
const BENCHES = {
  estimator: 'libs/benchmarks/dist/eval/eval-cli.js',
  heartbeats: 'apps/api/dist/bench/heartbeats.bench.js',
  ledger: 'apps/api/dist/bench/ledger.bench.js',
  estimates: 'apps/api/dist/bench/estimates.bench.js',
  scheduler: 'apps/api/dist/bench/scheduler.bench.js',
};

function run(command, args, env) {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code) => resolveRun(code ?? 1));
  });
}

const selected = process.argv.slice(2);
const names = selected.length > 0 ? selected : Object.keys(BENCHES);
const unknown = names.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
const scratch = mkdtempSync(join(tmpdir(), 'anneal-bench-'));
let failed = 0;
try {
  const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', TZ: 'UTC', ANNEAL_REPO_ROOT: root };
  if ((await run(join(root, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '--outputStyle=static'], env)) !== 0) throw new Error('build failed');
  const postgres = await ensurePostgres({ dataDir: join(scratch, 'pg'), probeLocal: true });
  const nats = await ensureNats({ dataDir: join(scratch, 'nats'), probeLocal: true });
  const benchEnv = { ...env, ANNEAL_TEST_PG_URL: postgres.url, ANNEAL_TEST_NATS_URL: nats.url, ANNEAL_TEST_RUN_ID: `bench${Date.now().toString(36)}` };
  for (const name of names) {
    const script = join(root, BENCHES[name]);
    if (!existsSync(script)) {
      log(`bench ${name}: ${BENCHES[name]} is not built yet; skipped`);
      continue;
    }
    log(`── bench ${name}`);
    const code = await run(process.execPath, [script], benchEnv);
    if (code !== 0) {
      failed += 1;
      log(`bench ${name} failed (exit ${code})`);
    }
  }
} catch (error) {
  process.stderr.write(`[anneal] bench could not run: ${error.message}\n`);
  failed += 1;
} finally {
  await stopServices();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed > 0 ? 1 : 0);
