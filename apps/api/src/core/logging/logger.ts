import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';

/** The request a log line belongs to; every line written while serving it carries its id. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

/**
 * Paths pino replaces with "[redacted]" wherever they appear. Secrets never reach the log because
 * the logger is configured so, not because each call site remembers to leave them out.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.key',
  '*.secret',
  '*.totpSecret',
  '*.code',
  '*.recoveryCode',
  '*.recoveryCodes',
  '*.joinToken',
  '*.nodeToken',
  '*.attemptToken',
  '*.heartbeatKey',
  '*.credentials',
  '*.seed',
  '*.platformSeed',
  '*.privateKey',
  '*.PLATFORM_NKEY_SEED',
  '*.GCP_CREDENTIALS_JSON',
  '*.RUNPOD_API_KEY',
  '*.webhookSecret',
  '*.PAYMENT_WEBHOOK_SECRET',
  'password',
  'token',
  'secret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const context = requestContext.getStore();
        return context ? { requestId: context.requestId } : {};
      },
    },
    destination,
  );
}

/** Nest's own messages (boot, routes) through the same JSON logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}

export const LOGGER = Symbol('LOGGER');
