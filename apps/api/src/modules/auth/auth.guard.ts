import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Inject } from '@nestjs/common';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { AppError, forbidden, notFound, unauthenticated } from '../../core/errors/app-error.js';
import { AuthRepository } from './auth.repository.js';
import type { AuthenticatedRequest, Principal } from './principal.js';
import { IS_PUBLIC } from './public.decorator.js';
import { ADMIN_ONLY, REQUIRED_SCOPES, SESSION_ONLY, type Scope } from './scopes.js';
import { TokenService } from './token.service.js';

/** Header naming the organization a signed-in user acts for (default: their personal one). */
export const ORG_HEADER = 'anneal-org';
const API_KEY_PREFIX_LENGTH = 11; // "ak_" + 8
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Every route is authenticated unless marked @Public(). Accepts an access token or an API key in
 * `Authorization: Bearer`, resolves the organization the request acts for, and enforces API-key
 * scopes, session-only routes and admin routes.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly repository: AuthRepository,
    private readonly tokens: TokenService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw unauthenticated();
    const credential = match[1];
    const principal = credential.startsWith('ak_') ? await this.fromApiKey(credential) : await this.fromAccessToken(credential, request);
    request.principal = principal;

    if (this.reflector.getAllAndOverride<boolean>(SESSION_ONLY, targets) && principal.kind !== 'session') {
      throw forbidden('This needs a signed-in session; API keys cannot manage account security.');
    }
    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets)) {
      if (!principal.isAdmin || principal.kind !== 'session') throw forbidden('This is for platform administrators.');
      if (!principal.twoFactorEnabled) throw forbidden('Administrators must turn on two-factor authentication first.', 'two_factor_required');
    }
    const required = this.reflector.getAllAndOverride<Scope[]>(REQUIRED_SCOPES, targets) ?? [];
    if (principal.scopes !== 'all') {
      const missing = required.filter((scope) => !principal.scopes.includes(scope));
      if (missing.length > 0) {
        throw new AppError(403, 'insufficient_scope', `This API key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`, { missingScopes: missing });
      }
    }
    return true;
  }

  private async fromAccessToken(token: string, request: AuthenticatedRequest): Promise<Principal> {
    const now = this.clock.now();
    const verified = this.tokens.verifyAccessToken(token, now);
    if (!verified.ok) {
      throw verified.reason === 'expired'
        ? unauthenticated('Your session token has expired: refresh it or sign in again.', 'token_expired')
        : unauthenticated();
    }
    const found = await this.repository.findSessionWithUser(verified.claims.sid);
    if (!found || found.session.revokedAt || found.session.expiresAt <= now || found.user.id !== verified.claims.sub) {
      throw unauthenticated('This session has ended: sign in again.', 'token_expired');
    }
    const { user, session } = found;
    if (user.status === 'suspended') throw forbidden('This account is suspended. Contact support to have it reviewed.', 'account_suspended');
    if (user.status !== 'active') throw unauthenticated();
    const requestedOrg = request.headers[ORG_HEADER];
    const orgId = typeof requestedOrg === 'string' && requestedOrg.length > 0 ? requestedOrg : user.personalOrgId;
    const membership = /^[0-9a-f-]{36}$/i.test(orgId) ? await this.repository.findMembership(orgId, user.id) : null;
    if (!membership) throw notFound('Organization');
    return {
      kind: 'session',
      userId: user.id,
      orgId,
      orgRole: membership.role,
      isAdmin: user.isAdmin,
      twoFactorEnabled: user.totpEnabledAt !== null,
      scopes: 'all',
      sessionId: session.id,
    };
  }

  private async fromApiKey(key: string): Promise<Principal> {
    const now = this.clock.now();
    const prefix = key.slice(0, API_KEY_PREFIX_LENGTH);
    const stored = await this.repository.findApiKeyByPrefix(prefix);
    if (!stored || !TokenService.equalHashes(stored.secretHash, this.tokens.hashSecret(key))) throw unauthenticated('This API key is not valid.');
    if (stored.revokedAt) throw unauthenticated('This API key has been revoked.', 'api_key_revoked');
    const [user, membership] = await Promise.all([this.repository.findUser(stored.createdBy), this.repository.findMembership(stored.orgId, stored.createdBy)]);
    // A key acts for its creator within its organization: it stops when they leave or are suspended.
    if (!user || user.status !== 'active' || !membership) throw unauthenticated('This API key is no longer valid.', 'api_key_revoked');
    if (!stored.lastUsedAt || now.getTime() - stored.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.repository.touchApiKey(stored.id, now);
    }
    return {
      kind: 'api_key',
      userId: user.id,
      orgId: stored.orgId,
      orgRole: membership.role,
      isAdmin: false,
      twoFactorEnabled: user.totpEnabledAt !== null,
      scopes: stored.scopes as Scope[],
      apiKeyId: stored.id,
    };
  }
}
