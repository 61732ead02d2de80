import { randomBytes } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { createApp } from '../app.factory.js';
import { loadConfig, type AppConfig } from '../config/app-config.js';
import { runMigrationsLocked } from '../core/database/data-source.js';
import { createLogger } from '../core/logging/logger.js';

export interface BenchApp {
  app: NestExpressApplication;
  config: AppConfig;
  dataSource: DataSource;
  close(): Promise<void>;
}

/** The PostgreSQL server and NATS of a benchmark run (scripts/bench.mjs sets both). */
export function benchServices(): { pgUrl: string; natsUrl: string } {
  return {
    pgUrl: process.env.ANNEAL_TEST_PG_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    natsUrl: process.env.ANNEAL_TEST_NATS_URL ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  };
}

/**
 * Boots the real API module in-process (not listening) against a fresh database on the run's
 * PostgreSQL server and the run's NATS with a unique subject prefix; `close` drops the database.
 */
export async function startBenchApp(label: string, overrides: Record<string, string> = {}): Promise<BenchApp> {
  const { pgUrl, natsUrl } = benchServices();
  const name = `bench_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: url.toString(),
    DATABASE_POOL_SIZE: '8',
    NATS_URL: natsUrl,
    NATS_SUBJECT_PREFIX: `b${label.replace(/[^a-z0-9]/gi, '')}${randomBytes(4).toString('hex')}`,
    AUTH_TOKEN_SECRET: `bench-${randomBytes(24).toString('hex')}`,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'warn',
    SCHEDULER_ENABLED: 'false',
    BENCHMARK_PRIOR_IMPORT: 'false',
    ...overrides,
  });
  const app = await createApp({ config, logger: createLogger(config.LOG_LEVEL) });
  const dataSource = app.get(DataSource);
  await runMigrationsLocked(dataSource);
  await app.init();
  return {
    app,
    config,
    dataSource,
    async close() {
      await app.close();
      const dropper = new pg.Client({ connectionString: pgUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await dropper.end();
    },
  };
}
