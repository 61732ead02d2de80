import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { badRequest } from '../errors/app-error.js';
import type { FieldError } from '../errors/error-response.js';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message: message.replace(/^property (\S+) should not exist$/, 'is not a known field') }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Validation once, at the edge: unknown fields are refused (not stripped), types are checked, and a
 * failure is a 400 `validation_failed` naming each field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      const summary = fields.slice(0, 3).map((f) => `${f.field} ${f.message.replace(new RegExp(`^${f.field}\\s`), '')}`).join('; ');
      return badRequest('validation_failed', `Some fields are not valid: ${summary}${fields.length > 3 ? '; …' : ''}.`, { fields });
    },
  });
}
