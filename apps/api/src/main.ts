#!/usr/bin/env node
import { DataSource } from 'typeorm';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/app-config.js';
import { runMigrationsLocked } from './core/database/data-source.js';
import { createLogger } from './core/logging/logger.js';
import { seedDemo } from './cli/demo-seed.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const app = await createApp({ config, logger });
  const dataSource = app.get(DataSource);
  if (config.MIGRATIONS_RUN) {
    const applied = await runMigrationsLocked(dataSource);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
  }
  if (config.DEMO_SEED) await seedDemo(dataSource, logger, { admin: config.DEMO_ADMIN_PASSWORD, customer: config.DEMO_CUSTOMER_PASSWORD, provider: config.DEMO_PROVIDER_PASSWORD });
  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ port }, `Anneal API listening on http://localhost:${port}`);

  // Graceful stop: finish requests, drain NATS, close the pool, then exit 0. Forced after 10 s.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`anneal-api failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
