import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AppError, unauthenticated } from '../../core/errors/app-error.js';
import type { Attempt } from '../jobs/entities/attempt.entity.js';
import { AttemptAccessRepository } from './attempt-access.repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ATTEMPT_TOKEN = /^att_[A-Za-z0-9_-]{20,100}$/;

export type AttemptRequest = { params: Record<string, string | undefined>; headers: Record<string, string | string[] | undefined>; attempt?: Attempt };

const invalid = () => unauthenticated('This attempt token is not valid for this attempt.', 'attempt_token_invalid');

/** sha256 hex of an attempt token, as stored in `attempts.attempt_token_hash`. */
export function hashAttemptToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Authenticates an agent by its per-attempt token (`Authorization: Bearer att_…`) for the attempt
 * named in the path. The token's hash is compared in constant time; once the attempt has ended
 * the token is dead (401 `attempt_token_revoked`), whatever its age. Routes using it are
 * `@Public()` for the user AuthGuard: a session or API key means nothing here.
 */
@Injectable()
export class AttemptTokenGuard implements CanActivate {
  constructor(private readonly repository: AttemptAccessRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AttemptRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const token = match?.[1];
    if (!token || !ATTEMPT_TOKEN.test(token)) throw unauthenticated('Send the attempt token from the assignment: Authorization: Bearer att_…', 'attempt_token_invalid');
    const attemptId = request.params.id ?? '';
    // The same work (one lookup, one comparison) whether or not the attempt exists.
    const attempt = UUID.test(attemptId) ? await this.repository.findAttempt(attemptId.toLowerCase()) : null;
    const given = Buffer.from(hashAttemptToken(token), 'hex');
    const stored = Buffer.from(attempt?.attemptTokenHash ?? '0'.repeat(64), 'hex');
    const matches = stored.length === given.length && timingSafeEqual(stored, given);
    if (!attempt || !matches) throw invalid();
    if (attempt.status === 'ended') throw new AppError(401, 'attempt_token_revoked', 'This attempt has ended, so its token no longer works.');
    request.attempt = attempt;
    return true;
  }
}
