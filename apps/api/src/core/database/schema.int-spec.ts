import { createTestDatabase, type TestDatabase } from '@anneal/test/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource, pendingSchemaDiff, runMigrationsLocked } from './data-source.js';
import { MIGRATIONS } from '../../migrations/index.js';

describe('schema', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('schema');
    dataSource = await createDataSource(db.url, 4).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('migrations create exactly what the entities describe', async () => {
    const applied = await runMigrationsLocked(dataSource);
    expect(applied).toHaveLength(MIGRATIONS.length);
    expect(await pendingSchemaDiff(dataSource)).toEqual([]);
  });

  it('the check notices drift between entities and the database', async () => {
    await dataSource.query('DROP INDEX api_keys_prefix_key');
    await dataSource.query('ALTER TABLE users DROP COLUMN locked_until');
    try {
      const diff = await pendingSchemaDiff(dataSource);
      expect(diff.some((sql) => sql.includes('locked_until'))).toBe(true);
      expect(diff.some((sql) => sql.includes('api_keys_prefix_key'))).toBe(true);
    } finally {
      await dataSource.query('ALTER TABLE users ADD COLUMN locked_until timestamptz');
      await dataSource.query('CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix)');
    }
    expect(await pendingSchemaDiff(dataSource)).toEqual([]);
  });

  it('running the migrations again applies nothing', async () => {
    expect(await runMigrationsLocked(dataSource)).toEqual([]);
  });

  it('concurrent boots apply each migration once', async () => {
    const other = await createTestDatabase('schema2');
    const sources = await Promise.all([1, 2, 3].map(() => createDataSource(other.url, 2).initialize()));
    try {
      const results = await Promise.all(sources.map((source) => runMigrationsLocked(source)));
      expect(results.flat()).toHaveLength(MIGRATIONS.length);
    } finally {
      await Promise.all(sources.map((source) => source.destroy()));
      await other.drop();
    }
  });

  it('every migration can be reverted', async () => {
    for (let i = 0; i < MIGRATIONS.length; i += 1) await dataSource.undoLastMigration();
    const { rows } = await dataSource.driver.createQueryRunner('master').query(`select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name <> 'schema_migrations'`).then((r: { n: number }[]) => ({ rows: r }));
    expect(rows[0]?.n).toBe(0);
    expect(await runMigrationsLocked(dataSource)).toHaveLength(MIGRATIONS.length);
  });
});
