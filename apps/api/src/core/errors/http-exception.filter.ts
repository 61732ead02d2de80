import { ArgumentsHost, Catch, HttpException, HttpStatus, type ExceptionFilter } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError } from './app-error.js';
import type { ErrorResponse } from './error-response.js';

interface MappedError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

/** What express's body parser attaches to its errors. */
interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

const STATUS_CODES: Record<number, { code: string; message: string }> = {
  400: { code: 'bad_request', message: 'The request could not be understood.' },
  401: { code: 'unauthenticated', message: 'Sign in to continue: the request carries no valid token or API key.' },
  403: { code: 'forbidden', message: 'You are not allowed to do this.' },
  404: { code: 'not_found', message: 'Nothing was found here.' },
  405: { code: 'method_not_allowed', message: 'This method is not allowed here.' },
  409: { code: 'conflict', message: 'The request conflicts with the current state.' },
  413: { code: 'payload_too_large', message: 'The request body is too large.' },
  415: { code: 'unsupported_media_type', message: 'Send JSON with Content-Type: application/json.' },
  429: { code: 'rate_limited', message: 'Too many requests: wait a moment and try again.' },
};

export function mapError(error: unknown, request: Pick<Request, 'method' | 'path'>): MappedError {
  if (error instanceof AppError) return { status: error.status, code: error.code, message: error.message, details: error.details };
  if (error instanceof ThrottlerException) return { status: 429, code: 'rate_limited', message: 'Too many attempts: wait a minute and try again.' };
  // Nest wraps body-parser errors in an HttpException whose cause is the original.
  const parserError = ((error instanceof HttpException ? error.cause : undefined) ?? error) as BodyParserError;
  if (parserError?.type === 'entity.parse.failed') return { status: 400, code: 'malformed_json', message: 'The request body is not valid JSON.' };
  if (parserError?.type === 'entity.too.large') {
    return { status: 413, code: 'payload_too_large', message: `The request body is larger than the ${parserError.limit ?? ''} bytes this endpoint accepts.`.replace('  ', ' ') };
  }
  if (parserError?.type === 'charset.unsupported' || parserError?.type === 'encoding.unsupported') {
    return { status: 415, code: 'unsupported_media_type', message: 'The request body uses an unsupported encoding.' };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 404) return { status, code: 'route_not_found', message: `There is no ${request.method} ${request.path}.` };
    const known = STATUS_CODES[status];
    return { status, code: known?.code ?? 'http_error', message: known?.message ?? 'The request failed.' };
  }
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, code: 'internal_error', message: 'Something went wrong on our side; it has been logged.' };
}

/** Turns every error into `{code, message, requestId, details?}`; never sends a stack trace. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const request = context.getRequest<Request & { id?: string }>();
    const response = context.getResponse<Response>();
    const mapped = mapError(error, request);
    const requestId = String(request.id ?? '');
    if (mapped.status >= 500) {
      this.logger.error({ err: error, requestId }, 'unhandled error');
    } else {
      this.logger.info({ requestId, code: mapped.code, status: mapped.status }, 'request refused');
    }
    if (response.headersSent) return;
    const body: ErrorResponse = { code: mapped.code, message: mapped.message, requestId };
    if (mapped.details !== undefined) body.details = mapped.details;
    response.status(mapped.status).json(body);
  }
}
