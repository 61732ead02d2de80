#!/usr/bin/env node
// `npm test`: every suite of every project, against real PostgreSQL and NATS.
// Uses the machine's PostgreSQL and NATS when they run (DATABASE_URL / NATS_URL, else the usual
// local ports); otherwise starts embedded ones in a temporary directory. Each run gets its own
// database names and NATS prefixes (tests create them), and drops its databases at the end.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { ensureNats, ensurePostgres, log, stopServices } from './lib/services.mjs';

const root = resolve(import.meta.dirname, '..');
const runId = `r${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
const scratch = mkdtempSync(join(tmpdir(), 'anneal-test-'));
const resultsDir = join(root, '.anneal', 'test-results', runId);
mkdirSync(resultsDir, { recursive: true });

function run(command, args, env) {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolveRun(code ?? (signal ? 1 : 0));
    });
  });
}

async function dropRunDatabases(serverUrl) {
  const client = new pg.Client({ connectionString: serverUrl });
  try {
    await client.connect();
    const { rows } = await client.query('select datname from pg_database where datname like $1', [`anneal_${runId}_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    if (rows.length > 0) log(`dropped ${rows.length} test database(s) left by this run`);
  } catch (error) {
    log(`could not clean up test databases: ${error.message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function tally() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (!existsSync(resultsDir)) return { passed, failed, skipped };
  for (const file of readdirSync(resultsDir)) {
    const report = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    if ((report.numFailedTestSuites ?? 0) > 0 && (report.numFailedTests ?? 0) === 0) failed += report.numFailedTestSuites;
  }
  return { passed, failed, skipped };
}

let exitCode = 1;
let postgres;
try {
  postgres = await ensurePostgres({ dataDir: join(scratch, 'pg'), probeLocal: true });
  const nats = await ensureNats({ dataDir: join(scratch, 'nats'), probeLocal: true });
  const env = {
    ...process.env,
    TZ: 'UTC',
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    ANNEAL_TEST_RUN_ID: runId,
    ANNEAL_TEST_PG_URL: postgres.url,
    ANNEAL_TEST_NATS_URL: nats.url,
    ANNEAL_TEST_RESULTS_DIR: resultsDir,
  };
  const nx = join(root, 'node_modules', '.bin', 'nx');
  const steps = [
    ['module boundaries', process.execPath, [join(root, 'scripts', 'check-boundaries.mjs')]],
    ['build', nx, ['run-many', '-t', 'build', '--outputStyle=static']],
    ['typecheck', nx, ['run-many', '-t', 'typecheck', '--outputStyle=static']],
    ['tests', nx, ['run-many', '-t', 'test', '--outputStyle=static', '--skip-nx-cache']],
  ];
  const failedSteps = [];
  for (const [name, command, args] of steps) {
    log(`── ${name}`);
    const code = await run(command, args, env);
    if (code !== 0) {
      failedSteps.push(name);
      // Without a build nothing later can run meaningfully.
      if (name === 'build') break;
    }
  }
  const { passed, failed, skipped } = tally();
  if (failedSteps.length > 0) log(`failed steps: ${failedSteps.join(', ')}`);
  process.stdout.write(`\nTests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  exitCode = failedSteps.length === 0 && failed === 0 && passed > 0 ? 0 : 1;
} catch (error) {
  process.stderr.write(`[anneal] test run could not start: ${error.message}\n`);
} finally {
  if (postgres) await dropRunDatabases(postgres.url);
  await stopServices();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(resultsDir, { recursive: true, force: true });
}
process.exit(exitCode);
