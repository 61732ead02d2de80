import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  /** Connection URL of the fresh, empty database. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * The server the test run uses: scripts/test.mjs sets ANNEAL_TEST_PG_URL (to the machine's running
 * PostgreSQL, or to an embedded one it started); a bare `vitest` falls back to the local default.
 */
export function postgresServerUrl(): string {
  return process.env.ANNEAL_TEST_PG_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates an empty database owned by this test file; `drop()` removes it (and its connections). */
export async function createTestDatabase(label = 't'): Promise<TestDatabase> {
  const runId = (process.env.ANNEAL_TEST_RUN_ID ?? 'local').replace(/[^a-z0-9]/gi, '').toLowerCase();
  const name = `anneal_${runId}_${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${randomBytes(4).toString('hex')}`.slice(0, 63);
  const serverUrl = postgresServerUrl();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(serverUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
