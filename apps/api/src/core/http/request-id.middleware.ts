import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { requestContext } from '../logging/logger.js';
import type { HttpMetrics } from './http-metrics.js';

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id when well-formed, else a UUIDv7), returns it
 * in the response header, binds it to every log line, logs one access line per request and records
 * the latency histogram by route and status.
 */
export function requestIdMiddleware(logger: Logger, metrics: HttpMetrics) {
  return (req: Request & { id?: string }, res: Response, next: NextFunction) => {
    const incoming = req.header('x-request-id');
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : uuidv7();
    req.id = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeTemplate(req);
      metrics.observe(req.method, route, res.statusCode, seconds);
      if (req.path !== '/healthz' && req.path !== '/metrics') {
        requestContext.run({ requestId }, () =>
          logger.info({ method: req.method, route, status: res.statusCode, durationMs: Math.round(seconds * 1000) }, 'request'),
        );
      }
    });
    requestContext.run({ requestId }, () => next());
  };
}

/** The matched route's template ("/v1/jobs/:id"), never the raw path, so metrics stay bounded. */
function routeTemplate(req: Request): string {
  const route = (req as Request & { route?: { path?: string } }).route?.path;
  if (route) return `${req.baseUrl}${route}`;
  return 'unmatched';
}
