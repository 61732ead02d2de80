import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { badRequest } from '../errors/app-error.js';

const FORMAT = /^[A-Za-z0-9_.:-]{8,200}$/;

/**
 * The request's `Idempotency-Key` header, checked once for every mutating endpoint that takes it:
 * undefined when absent, a 400 naming the header when malformed.
 */
export const IdempotencyKey = createParamDecorator((_: unknown, context: ExecutionContext): string | undefined => {
  const value = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !FORMAT.test(value)) {
    throw badRequest('validation_failed', 'Idempotency-Key must be 8–200 letters, digits or . _ : -.', { fields: [{ field: 'Idempotency-Key', message: 'invalid format' }] });
  }
  return value;
});
