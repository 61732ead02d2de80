import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, expectEventually, freePort, natsTestUrl, uniquePrefix, type TestDatabase } from '../support/index.js';

const root = resolve(import.meta.dirname, '..', '..');
const apiMain = resolve(root, 'apps', 'api', 'dist', 'main.js');

function baseEnv(databaseUrl: string, port: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    TZ: 'UTC',
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    NATS_URL: natsTestUrl(),
    NATS_SUBJECT_PREFIX: uniquePrefix('boot'),
    AUTH_TOKEN_SECRET: 'boot-test-secret-0123456789abcdef0123456789',
    ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}`,
    // Production refuses to start without the secrets it would otherwise make up per process.
    PAYMENT_WEBHOOK_SECRET: 'boot-test-webhook-secret-0123456789',
    PLATFORM_NKEY_SEED: new TextDecoder().decode(createUser().getSeed()),
    LOG_LEVEL: 'warn',
  };
}

/** The exit code, or the signal's name when the process was killed by one. */
function exitOf(child: ChildProcess): Promise<number | string | null> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit(child.exitCode ?? child.signalCode);
    else child.once('exit', (code, signal) => resolveExit(code ?? signal));
  });
}

describe('start-up of the built API', () => {
  const children: ChildProcess[] = [];
  const databases: TestDatabase[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(children.map(exitOf));
    for (const db of databases) await db.drop();
  });

  it('boots against a fresh database, runs the migrations, and is ready', async () => {
    const db = await createTestDatabase('boot');
    databases.push(db);
    const port = await freePort();
    const child = spawn(process.execPath, [apiMain], { env: baseEnv(db.url, port), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));

    const ready = await expectEventually(async () => {
      if (child.exitCode !== null) throw new Error(`API exited ${child.exitCode}: ${output}`);
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(response.status).toBe(200);
      return response.json();
    }, 60_000, 100);
    expect(ready).toEqual({ status: 'ready', checks: { database: 'ok', nats: 'ok' } });

    const { Client } = (await import('pg')).default;
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query('select count(*)::int as n from schema_migrations');
    await client.end();
    expect(rows[0].n).toBeGreaterThan(0);

    child.kill('SIGTERM');
    // A graceful stop: drained and closed, exit code 0 (not killed by the signal).
    expect(await exitOf(child)).toBe(0);
  });

  it('stops at boot with a message naming a bad configuration value', async () => {
    const db = await createTestDatabase('badcfg');
    databases.push(db);
    const child = spawn(process.execPath, [apiMain], { env: { ...baseEnv(db.url, 0), PORT: 'eighty', PLATFORM_FEE_BPS: '-3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    expect(await exitOf(child)).toBe(78);
    expect(stderr).toContain('PORT');
    expect(stderr).toContain('PLATFORM_FEE_BPS');
    expect(stderr).not.toContain('    at ');
  });
});
