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
  if (config.DEMO_SEED) await seedDemo(app, logger);
  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ port }, `Anneal API listening on http://localhost:${port}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`anneal-api failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
