import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import type { Clock } from './core/clock/clock.js';
import { HttpExceptionFilter } from './core/errors/http-exception.filter.js';
import { HttpMetrics } from './core/http/http-metrics.js';
import { requestIdMiddleware } from './core/http/request-id.middleware.js';
import { createValidationPipe } from './core/http/validation.js';
import { NestPinoLogger } from './core/logging/logger.js';
import { apiStreams } from './core/nats/streams.js';

export interface CreateAppOptions {
  config: AppConfig;
  logger: Logger;
  clock?: Clock;
}

const API_PATHS = /^\/(v1|healthz|readyz|metrics|docs|openapi\.json)(\/|$)/;

/** Builds the configured application (not yet listening): the one way main and tests start it. */
export async function createApp({ config, logger, clock }: CreateAppOptions): Promise<NestExpressApplication> {
  const metrics = new HttpMetrics();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config, logger, metrics, clock, streams: apiStreams(config.NATS_SUBJECT_PREFIX) }), {
    logger: new NestPinoLogger(logger.child({ component: 'nest' })),
    bodyParser: false,
    // The JSON parser keeps the exact bytes in `req.rawBody` (payment webhooks verify their signature over them).
    rawBody: true,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(requestIdMiddleware(logger, metrics));
  app.useBodyParser('json', { limit: config.BODY_LIMIT_BYTES });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter(logger));

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Anneal API')
      .setDescription('GPU marketplace and scheduler for fine-tuning jobs. Errors are `{code, message, requestId, details?}`.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Session access token or API key' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', ui: true });

  const webDir = config.WEB_DIST_DIR ?? defaultWebDir();
  if (webDir && existsSync(join(webDir, 'index.html'))) serveWeb(app, webDir);
  return app;
}

function defaultWebDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidate = resolve(here, '..', '..', 'web', 'dist');
  return existsSync(candidate) ? candidate : undefined;
}

/** The consoles at `/`: static files, and index.html for client-side routes (never for API paths). */
function serveWeb(app: NestExpressApplication, webDir: string): void {
  app.use(express.static(webDir, { index: false, maxAge: '1h' }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' || API_PATHS.test(req.path) || !req.accepts('html')) return next();
    res.sendFile(join(webDir, 'index.html'));
  });
}
