import { createTestDatabase, type TestDatabase } from '@anneal/test/support';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLedgerBench } from './ledger-bench.js';

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase('billingbench');
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  // Idle connections are cut when the database is dropped at the end: expected, not a failure.
  pool.on('error', () => {});
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('runLedgerBench', () => {
  it('drives 8 callers against a fresh database and verifies the ledger afterwards', async () => {
    const result = await runLedgerBench({ pool, callers: 8, durationMs: 1_500 });
    expect(result.transfers).toBeGreaterThan(100);
    expect(result.transfersPerSecond).toBeGreaterThan(0);
    expect(result.invariantViolations).toEqual([]);
    expect(result.verified).toBe(true);
    expect(result.outcomes).toEqual({});
    // A second run on the same database (schema already there) works as well.
    expect((await runLedgerBench({ pool, callers: 2, durationMs: 200 })).verified).toBe(true);
  });
});
