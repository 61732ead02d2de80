import { performance } from 'node:perf_hooks';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { AppError, forbidden, notFound, unauthenticated } from '../../core/errors/app-error.js';
import { LOGGER } from '../../core/logging/logger.js';
import { AuthInvalidationService } from './auth-invalidation.service.js';
import { AuthRepository } from './auth.repository.js';
import { PrincipalCache } from './principal-cache.js';
import type { AuthenticatedRequest, Principal } from './principal.js';
import { IS_PUBLIC } from './public.decorator.js';
import { ADMIN_ONLY, REQUIRED_SCOPES, SESSION_ONLY, type Scope } from './scopes.js';
import { TokenService } from './token.service.js';

/** Header naming the organization a signed-in user acts for (default: their personal one). */
export const ORG_HEADER = 'anneal-org';
const API_KEY_PREFIX_LENGTH = 11; // "ak_" + 8
const LAST_USED_RESOLUTION_MS = 60_000;
/** API keys whose last touch this replica remembers (beyond it, the oldest are forgotten). */
const TOUCHED_KEYS_MAX = 10_000;

interface RouteRules {
  isPublic: boolean;
  sessionOnly: boolean;
  adminOnly: boolean;
  scopes: readonly Scope[];
}

/** A principal resolved from the database, and until when (app clock) its credential holds. */
interface Resolved {
  principal: Principal;
  validUntilMs: number;
}

/**
 * Every route is authenticated unless marked @Public(). Accepts an access token or an API key in
 * `Authorization: Bearer`, resolves the organization the request acts for, and enforces API-key
 * scopes, session-only routes and admin routes.
 *
 * Resolved principals are cached for a few seconds (`PrincipalCache`), keyed by a hash of the
 * credential and the organization asked for; revocations and other changes drop them at once on
 * every replica (`AuthInvalidationService`). A refusal is never cached, and an admin route refused
 * on a cached principal asks the database again (a promotion takes effect at once too).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly rules = new WeakMap<object, RouteRules>();
  private readonly cache: PrincipalCache;
  /** Lookups in flight per cache key, shared by concurrent requests of the same generation. */
  private readonly inflight = new Map<string, { generation: number; lookup: Promise<Resolved> }>();
  /** When this replica last wrote (or read) each API key's `last_used_at`, app-clock ms. */
  private readonly keyTouchedAtMs = new Map<string, number>();

  constructor(
    private readonly reflector: Reflector,
    private readonly repository: AuthRepository,
    private readonly tokens: TokenService,
    invalidation: AuthInvalidationService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.cache = invalidation.cache;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rules = this.routeRules(context);
    if (rules.isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw unauthenticated();
    const credential = match[1];
    const requestedOrg = request.headers[ORG_HEADER];
    // An API key acts for its own organization whatever the header says.
    const orgAsked = credential.startsWith('ak_') ? '' : typeof requestedOrg === 'string' ? requestedOrg : '';
    const key = PrincipalCache.keyOf(credential, orgAsked);
    const now = this.clock.now();
    let principal = this.cache.get(key, performance.now(), now.getTime());
    const cached = principal !== undefined;
    if (!principal) principal = await this.resolveShared(key, credential, orgAsked);

    if (rules.adminOnly && cached && !(principal.isAdmin && principal.twoFactorEnabled)) {
      // Refused on what this replica remembers: ask the database before saying no.
      principal = await this.resolveShared(key, credential, orgAsked, true);
    }
    if (principal.apiKeyId) this.touchApiKey(principal.apiKeyId, now);
    request.principal = principal;

    if (rules.sessionOnly && principal.kind !== 'session') {
      throw forbidden('This needs a signed-in session; API keys cannot manage account security.');
    }
    if (rules.adminOnly) {
      if (!principal.isAdmin || principal.kind !== 'session') throw forbidden('This is for platform administrators.');
      if (!principal.twoFactorEnabled) throw forbidden('Administrators must turn on two-factor authentication first.', 'two_factor_required');
    }
    if (principal.scopes !== 'all') {
      const granted = principal.scopes;
      const missing = rules.scopes.filter((scope) => !granted.includes(scope));
      if (missing.length > 0) {
        throw new AppError(403, 'insufficient_scope', `This API key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`, { missingScopes: missing });
      }
    }
    return true;
  }

  private routeRules(context: ExecutionContext): RouteRules {
    const handler = context.getHandler();
    let rules = this.rules.get(handler);
    if (!rules) {
      const targets = [handler, context.getClass()];
      rules = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) ?? false,
        sessionOnly: this.reflector.getAllAndOverride<boolean>(SESSION_ONLY, targets) ?? false,
        adminOnly: this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) ?? false,
        scopes: this.reflector.getAllAndOverride<Scope[]>(REQUIRED_SCOPES, targets) ?? [],
      };
      this.rules.set(handler, rules);
    }
    return rules;
  }

  /**
   * One database lookup per credential at a time: requests arriving while it is in flight wait for
   * it, unless an invalidation came in since it started (then they look again). `fresh` always
   * starts a new lookup.
   */
  private async resolveShared(key: string, credential: string, orgAsked: string, fresh = false): Promise<Principal> {
    const generation = this.cache.generation;
    const running = fresh ? undefined : this.inflight.get(key);
    if (running && running.generation === generation) return (await running.lookup).principal;
    const lookup = credential.startsWith('ak_') ? this.fromApiKey(credential) : this.fromAccessToken(credential, orgAsked);
    const entry = { generation, lookup };
    this.inflight.set(key, entry);
    try {
      const resolved = await lookup;
      this.cache.set(key, resolved.principal, generation, performance.now(), resolved.validUntilMs);
      return resolved.principal;
    } finally {
      if (this.inflight.get(key) === entry) this.inflight.delete(key);
    }
  }

  private async fromAccessToken(token: string, orgAsked: string): Promise<Resolved> {
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
    const orgId = orgAsked.length > 0 ? orgAsked : user.personalOrgId;
    const membership = /^[0-9a-f-]{36}$/i.test(orgId) ? await this.repository.findMembership(orgId, user.id) : null;
    if (!membership) throw notFound('Organization');
    return {
      principal: {
        kind: 'session',
        userId: user.id,
        orgId,
        orgRole: membership.role,
        isAdmin: user.isAdmin,
        twoFactorEnabled: user.totpEnabledAt !== null,
        scopes: 'all',
        sessionId: session.id,
      },
      validUntilMs: Math.min(verified.claims.exp * 1000, session.expiresAt.getTime()),
    };
  }

  private async fromApiKey(key: string): Promise<Resolved> {
    const prefix = key.slice(0, API_KEY_PREFIX_LENGTH);
    const stored = await this.repository.findApiKeyByPrefix(prefix);
    if (!stored || !TokenService.equalHashes(stored.secretHash, this.tokens.hashSecret(key))) throw unauthenticated('This API key is not valid.');
    if (stored.revokedAt) throw unauthenticated('This API key has been revoked.', 'api_key_revoked');
    const [user, membership] = await Promise.all([this.repository.findUser(stored.createdBy), this.repository.findMembership(stored.orgId, stored.createdBy)]);
    // A key acts for its creator within its organization: it stops when they leave or are suspended.
    if (!user || user.status !== 'active' || !membership) throw unauthenticated('This API key is no longer valid.', 'api_key_revoked');
    if (stored.lastUsedAt) this.rememberTouch(stored.id, stored.lastUsedAt.getTime());
    return {
      principal: {
        kind: 'api_key',
        userId: user.id,
        orgId: stored.orgId,
        orgRole: membership.role,
        isAdmin: false,
        twoFactorEnabled: user.totpEnabledAt !== null,
        scopes: stored.scopes as Scope[],
        apiKeyId: stored.id,
      },
      validUntilMs: Number.POSITIVE_INFINITY,
    };
  }

  /** `last_used_at` is written at most once a minute per key and replica, never on the request's path. */
  private touchApiKey(id: string, now: Date): void {
    const last = this.keyTouchedAtMs.get(id);
    if (last !== undefined && now.getTime() - last <= LAST_USED_RESOLUTION_MS) return;
    this.rememberTouch(id, now.getTime());
    this.repository.touchApiKey(id, now).catch((error: unknown) => {
      this.keyTouchedAtMs.delete(id);
      this.logger.warn({ err: error, apiKeyId: id }, 'could not record when an API key was last used');
    });
  }

  private rememberTouch(id: string, atMs: number): void {
    if ((this.keyTouchedAtMs.get(id) ?? Number.NEGATIVE_INFINITY) >= atMs) return;
    this.keyTouchedAtMs.delete(id);
    this.keyTouchedAtMs.set(id, atMs);
    if (this.keyTouchedAtMs.size > TOUCHED_KEYS_MAX) {
      const oldest = this.keyTouchedAtMs.keys().next();
      if (!oldest.done) this.keyTouchedAtMs.delete(oldest.value);
    }
  }
}
