#!/usr/bin/env node
// `npm start`: Anneal on http://localhost:3000 — API, web consoles, scheduler, and a local demo
// node — with its services: DATABASE_URL / NATS_URL / S3_ENDPOINT when set and reachable, else an
// embedded PostgreSQL, a nats-server child and s3rver, all keeping their data under .anneal/.
// Ctrl-C stops everything this started; a second `npm start` reuses the data.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { ensureNats, ensurePostgres, ensureS3, log, redactUrl, stopServices } from './lib/services.mjs';
import { platformNkeySeed, startDemoNode } from './lib/demo-node.mjs';

const root = resolve(import.meta.dirname, '..');
const dataDir = join(root, '.anneal');
const port = Number(process.env.PORT ?? 3000);
mkdirSync(dataDir, { recursive: true });

const processes = [];
let shuttingDown = false;

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  log('stopping…');
  for (const child of processes.reverse()) {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  await Promise.all(processes.map((child) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined)));
  await stopServices();
  rmSync(join(dataDir, 'runtime.json'), { force: true });
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

/** Development secrets, made once and kept (mode 0600) so a restart keeps sessions and data readable. */
function localSecrets() {
  const file = join(dataDir, 'secrets.json');
  // Secrets added later are generated into an existing file too (older .anneal/secrets.json lack them).
  const later = {
    PAYMENT_WEBHOOK_SECRET: () => `whsec_dev_${randomBytes(24).toString('base64url')}`,
    PLATFORM_NKEY_SEED: () => platformNkeySeed(),
    DEMO_PROVIDER_PASSWORD: () => randomBytes(12).toString('base64url'),
  };
  if (existsSync(file)) {
    const existing = JSON.parse(readFileSync(file, 'utf8'));
    const missing = Object.keys(later).filter((name) => !existing[name]);
    if (missing.length === 0) return existing;
    for (const name of missing) existing[name] = later[name]();
    writeFileSync(file, JSON.stringify(existing, null, 2), { mode: 0o600 });
    return existing;
  }
  const secrets = {
    AUTH_TOKEN_SECRET: `dev-${randomBytes(32).toString('base64url')}`,
    ENCRYPTION_KEYS: `dev1:${randomBytes(32).toString('base64')}`,
    DEMO_ADMIN_PASSWORD: randomBytes(12).toString('base64url'),
    DEMO_CUSTOMER_PASSWORD: randomBytes(12).toString('base64url'),
    PAYMENT_WEBHOOK_SECRET: later.PAYMENT_WEBHOOK_SECRET(),
    PLATFORM_NKEY_SEED: later.PLATFORM_NKEY_SEED(),
    DEMO_PROVIDER_PASSWORD: later.DEMO_PROVIDER_PASSWORD(),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}

async function ensureDatabase(serverUrl, name) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function run(command, args, env, label) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolveRun() : reject(new Error(`${label} failed (exit ${code})`))));
  });
}

async function waitReady(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the API exited (${child.exitCode}) before it was ready`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the API was not ready within ${timeoutMs / 1000} s`);
}

try {
  const secrets = localSecrets();
  const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
  log('building (nx run-many -t build)…');
  await run(join(root, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '--outputStyle=static'], env, 'build');

  const postgres = await ensurePostgres({ dataDir: join(dataDir, 'pg'), probeLocal: false });
  const databaseUrl = postgres.embedded || !process.env.DATABASE_URL ? await ensureDatabase(postgres.url, 'anneal') : postgres.url;
  const nats = await ensureNats({ dataDir: join(dataDir, 'nats'), probeLocal: false });
  const s3 = await ensureS3({ dataDir: join(dataDir, 's3') });
  writeFileSync(join(dataDir, 'runtime.json'), JSON.stringify({ databaseUrl, natsUrl: nats.url, s3Endpoint: s3.endpoint }, null, 2), { mode: 0o600 });

  const apiEnv = {
    ...process.env,
    ...secrets,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    NATS_URL: nats.url,
    S3_ENDPOINT: s3.endpoint,
    ...(s3.accessKeyId ? { S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey } : {}),
    ALLOW_SIMULATED_NODES: process.env.ALLOW_SIMULATED_NODES ?? 'true',
    DEMO_SEED: 'true',
    WEB_DIST_DIR: join(root, 'apps', 'web', 'dist'),
  };
  const api = spawn(process.execPath, [join(root, 'apps', 'api', 'dist', 'main.js')], { cwd: root, env: apiEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  processes.push(api);
  api.on('exit', (code) => {
    if (!shuttingDown) {
      log(`the API exited (${code}); stopping`);
      void shutdown(code ?? 1);
    }
  });
  const baseUrl = `http://localhost:${port}`;
  await waitReady(baseUrl, api, 120_000);

  const demoNode = await startDemoNode({ root, baseUrl, dataDir, customerPassword: secrets.DEMO_CUSTOMER_PASSWORD, natsUrl: nats.url, log });
  if (demoNode) processes.push(demoNode);

  // Demo passwords go to an interactive terminal only; captured output (CI, logs) gets the file name.
  const shown = (password) => (process.stdout.isTTY ? `password ${password}` : 'password in .anneal/secrets.json');
  process.stdout.write(`
  Anneal is running at ${baseUrl}
    customer  customer@anneal.local  ${shown(secrets.DEMO_CUSTOMER_PASSWORD)}
    admin     admin@anneal.local     ${shown(secrets.DEMO_ADMIN_PASSWORD)}
    API docs  ${baseUrl}/docs
  Data in .anneal/ (database ${redactUrl(databaseUrl)}). Press Ctrl-C to stop.

`);
} catch (error) {
  process.stderr.write(`[anneal] could not start: ${error.message}\n`);
  await shutdown(1);
}
