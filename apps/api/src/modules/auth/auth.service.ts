import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SecretBox } from '@anneal/providers';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { AppError, conflict, forbidden, unauthenticated } from '../../core/errors/app-error.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { SECRET_BOX } from '../../core/crypto/secret-box.provider.js';
import { AuditService } from '../audit/audit.service.js';
import { createUserWithPersonalOrg, type NewUser } from '../users/create-user.js';
import type { User } from '../users/entities/user.entity.js';
import { AuthInvalidationService } from './auth-invalidation.service.js';
import { AuthRepository } from './auth.repository.js';
import type { RecoveryCode } from './entities/recovery-code.entity.js';
import type { Session } from './entities/session.entity.js';
import { PasswordService } from './password.service.js';
import type { Principal, RequestMeta } from './principal.js';
import { TokenService } from './token.service.js';
import { TotpService } from './totp.service.js';

export interface TokenPair {
  tokenType: 'Bearer';
  accessToken: string;
  expiresInSeconds: number;
  refreshToken: string;
  userId: string;
}

export interface SignupInput {
  email: string;
  password: string;
  name: string;
}

export interface LoginInput {
  email: string;
  password: string;
  totpCode?: string;
  recoveryCode?: string;
}

/** Failures before the first lockout, and the lockout that doubles from there (capped). */
const FREE_FAILURES = 5;
const FIRST_LOCK_SECONDS = 30;
const MAX_LOCK_SECONDS = 15 * 60;
const RECOVERY_CODE_COUNT = 10;

export function lockoutAfter(failures: number, now: Date): Date | null {
  if (failures < FREE_FAILURES) return null;
  const seconds = Math.min(MAX_LOCK_SECONDS, FIRST_LOCK_SECONDS * 2 ** (failures - FREE_FAILURES));
  return new Date(now.getTime() + seconds * 1000);
}

const INVALID_CREDENTIALS = () => new AppError(401, 'invalid_credentials', 'The email or password is wrong.');

@Injectable()
export class AuthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repository: AuthRepository,
    private readonly invalidation: AuthInvalidationService,
    private readonly audit: AuditService,
    private readonly tokens: TokenService,
    private readonly passwords: PasswordService,
    private readonly totp: TotpService,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  /** Creates the user, their personal organization (they own it) and a first session. */
  async signup(input: SignupInput, meta: RequestMeta): Promise<TokenPair> {
    const email = input.email.trim().toLowerCase();
    const now = this.clock.now();
    const passwordHash = await this.passwords.hash(input.password);
    const user = await this.createUser({ email, name: input.name.trim(), passwordHash, isAdmin: false }, now);
    await this.audit.record({ actor: { userId: user.id }, orgId: user.personalOrgId, action: 'user.signup', target: { type: 'user', id: user.id }, meta });
    return this.startSession(user, meta);
  }

  /** Used by sign-up; the admin CLI and the demo seed call createUserWithPersonalOrg directly. */
  createUser(input: NewUser, now: Date): Promise<User> {
    return createUserWithPersonalOrg(this.dataSource, input, now, this.newId);
  }

  async login(input: LoginInput, meta: RequestMeta): Promise<TokenPair> {
    const now = this.clock.now();
    const user = await this.repository.findUserByEmail(input.email.trim());
    if (user?.lockedUntil && user.lockedUntil > now) {
      const retryAfterSeconds = Math.ceil((user.lockedUntil.getTime() - now.getTime()) / 1000);
      // Checked before the password, so a locked account's password cannot be probed.
      await this.passwords.verify(null, input.password);
      throw new AppError(429, 'account_locked', `Too many failed sign-ins: try again in ${retryAfterSeconds} seconds.`, { retryAfterSeconds });
    }
    const passwordOk = await this.passwords.verify(user?.status === 'deleted' ? null : (user?.passwordHash ?? null), input.password);
    if (!user || !passwordOk) {
      await this.failedLogin(user, meta, 'password');
      throw INVALID_CREDENTIALS();
    }
    if (user.status === 'suspended') {
      await this.audit.record({ actor: { userId: user.id }, action: 'auth.login_refused', target: { type: 'user', id: user.id }, meta, details: { reason: 'suspended' } });
      throw forbidden('This account is suspended. Contact support to have it reviewed.', 'account_suspended');
    }
    if (user.totpEnabledAt) {
      if (!input.totpCode && !input.recoveryCode) {
        throw new AppError(401, 'two_factor_required', 'Enter the 6-digit code from your authenticator app (or a recovery code).');
      }
      const secondFactorOk = input.totpCode
        ? await this.checkTotp(user, input.totpCode, now)
        : await this.repository.consumeRecoveryCode(user.id, this.tokens.hashSecret(normalizeRecoveryCode(input.recoveryCode ?? '')), now);
      if (!secondFactorOk) {
        await this.failedLogin(user, meta, input.totpCode ? 'totp' : 'recovery_code');
        throw new AppError(401, 'two_factor_invalid', 'That code is not valid. Codes change every 30 seconds; a recovery code works once.');
      }
      if (input.recoveryCode) {
        await this.audit.record({ actor: { userId: user.id }, action: 'auth.recovery_code_used', target: { type: 'user', id: user.id }, meta });
      }
    }
    if (user.failedLoginCount > 0 || user.lockedUntil) await this.repository.resetFailedLogins(user.id);
    await this.audit.record({ actor: { userId: user.id }, action: 'auth.login', target: { type: 'user', id: user.id }, meta });
    return this.startSession(user, meta);
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const now = this.clock.now();
    const oldHash = this.tokens.hashSecret(refreshToken);
    const session = await this.repository.findSessionByRefreshHash(oldHash);
    if (!session) {
      // A replaced refresh token presented again: someone may hold a copy. End that session.
      const replaced = await this.repository.findSessionByPreviousRefreshHash(oldHash);
      if (replaced) await this.revokeSession(replaced.id, now);
      throw unauthenticated('This refresh token is no longer valid: sign in again.', 'token_expired');
    }
    if (session.revokedAt || session.expiresAt <= now) {
      throw unauthenticated('This refresh token is no longer valid: sign in again.', 'token_expired');
    }
    const user = await this.repository.findUser(session.userId);
    if (!user || user.status !== 'active') throw unauthenticated('This refresh token is no longer valid: sign in again.', 'token_expired');
    const newRefresh = this.tokens.randomToken('rt_');
    const rotated = await this.repository.rotateRefreshToken(session.id, oldHash, this.tokens.hashSecret(newRefresh), this.refreshExpiry(now));
    if (!rotated) {
      // The token was used twice: someone else may hold a copy. End the session.
      await this.revokeSession(session.id, now);
      throw unauthenticated('This refresh token was already used: sign in again.', 'token_expired');
    }
    return this.pair(session.id, user.id, newRefresh, now);
  }

  async logout(principal: Principal, meta: RequestMeta): Promise<void> {
    if (!principal.sessionId) return;
    await this.revokeSession(principal.sessionId, this.clock.now());
    await this.audit.record({ actor: principal, action: 'auth.logout', target: { type: 'session', id: principal.sessionId }, meta });
  }

  /** Starts two-factor enrolment: a new secret, kept sealed until a first code proves the app has it. */
  async enrollTwoFactor(principal: Principal, meta: RequestMeta): Promise<{ secret: string; otpauthUri: string }> {
    const user = await this.requireUser(principal.userId);
    if (user.totpEnabledAt) throw conflict('two_factor_already_enabled', 'Two-factor authentication is already on. Disable it first to enrol a new device.');
    const secret = this.totp.newSecret();
    await this.repository.setTotpSecret(user.id, this.secretBox.seal(secret), null);
    await this.audit.record({ actor: principal, action: 'auth.2fa_enrolment_started', target: { type: 'user', id: user.id }, meta });
    return { secret, otpauthUri: this.totp.uri(secret, user.email ?? user.id) };
  }

  /** Confirms enrolment with a first code; returns the ten recovery codes, shown this once. */
  async verifyTwoFactor(principal: Principal, code: string, meta: RequestMeta): Promise<{ recoveryCodes: string[] }> {
    const user = await this.requireUser(principal.userId);
    if (user.totpEnabledAt) throw conflict('two_factor_already_enabled', 'Two-factor authentication is already on.');
    if (!user.totpSecretSealed) throw conflict('two_factor_not_enabled', 'Start enrolment first: POST /v1/auth/2fa/enroll.');
    if (!(await this.checkTotp(user, code, this.clock.now()))) {
      throw new AppError(400, 'two_factor_invalid', 'That code is not valid. Check the time on your phone and try the current code.');
    }
    const now = this.clock.now();
    const plain = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode());
    const rows: RecoveryCode[] = plain.map((value) => ({ id: this.newId(), userId: user.id, codeHash: this.tokens.hashSecret(value), usedAt: null }));
    await this.repository.transaction(async (manager) => {
      await this.repository.setTotpSecret(user.id, user.totpSecretSealed, now, manager);
      await this.repository.replaceRecoveryCodes(manager, user.id, rows);
      await this.audit.record({ actor: principal, action: 'auth.2fa_enabled', target: { type: 'user', id: user.id }, meta }, manager);
    });
    await this.invalidation.announce({ kind: 'user', userId: user.id });
    return { recoveryCodes: plain };
  }

  /** Turns two-factor off; needs a current code or an unused recovery code. */
  async disableTwoFactor(principal: Principal, input: { totpCode?: string; recoveryCode?: string }, meta: RequestMeta): Promise<void> {
    const user = await this.requireUser(principal.userId);
    if (!user.totpEnabledAt) throw conflict('two_factor_not_enabled', 'Two-factor authentication is not on.');
    const now = this.clock.now();
    const ok = input.totpCode
      ? await this.checkTotp(user, input.totpCode, now)
      : input.recoveryCode
        ? await this.repository.consumeRecoveryCode(user.id, this.tokens.hashSecret(normalizeRecoveryCode(input.recoveryCode)), now)
        : false;
    if (!ok) throw new AppError(400, 'two_factor_invalid', 'Give a current code from your authenticator app or an unused recovery code.');
    await this.repository.transaction(async (manager) => {
      await this.repository.setTotpSecret(user.id, null, null, manager);
      await this.repository.replaceRecoveryCodes(manager, user.id, []);
      await this.audit.record({ actor: principal, action: 'auth.2fa_disabled', target: { type: 'user', id: user.id }, meta }, manager);
    });
    await this.invalidation.announce({ kind: 'user', userId: user.id });
  }

  /** Ends a session: its access tokens stop working at once, on every replica. */
  private async revokeSession(sessionId: string, at: Date): Promise<void> {
    await this.repository.revokeSession(sessionId, at);
    await this.invalidation.announce({ kind: 'session', sessionId });
  }

  private async checkTotp(user: User, code: string, now: Date): Promise<boolean> {
    if (!user.totpSecretSealed) return false;
    return this.totp.check(this.secretBox.open(user.totpSecretSealed), code, now);
  }

  private async failedLogin(user: User | null, meta: RequestMeta, factor: string): Promise<void> {
    const now = this.clock.now();
    const outcome = user ? await this.repository.recordFailedLogin(user.id, (failures) => lockoutAfter(failures, now)) : undefined;
    await this.audit.record({
      actor: 'anonymous',
      action: 'auth.login_failed',
      target: user ? { type: 'user', id: user.id } : undefined,
      meta,
      details: { factor, ...(outcome ? { failures: outcome.failures, lockedUntil: outcome.lockedUntil?.toISOString() ?? null } : { knownAccount: false }) },
    });
  }

  private async requireUser(id: string): Promise<User> {
    const user = await this.repository.findUser(id);
    if (!user || user.status === 'deleted') throw unauthenticated();
    return user;
  }

  private async startSession(user: User, meta: RequestMeta): Promise<TokenPair> {
    const now = this.clock.now();
    const refreshToken = this.tokens.randomToken('rt_');
    const session: Session = {
      id: this.newId(),
      userId: user.id,
      refreshTokenHash: this.tokens.hashSecret(refreshToken),
      previousRefreshTokenHash: null,
      createdAt: now,
      expiresAt: this.refreshExpiry(now),
      revokedAt: null,
      ip: meta.ip,
      userAgent: meta.userAgent,
    };
    await this.repository.insertSession(session);
    return this.pair(session.id, user.id, refreshToken, now);
  }

  private pair(sessionId: string, userId: string, refreshToken: string, now: Date): TokenPair {
    const ttl = this.config.ACCESS_TOKEN_TTL_SECONDS;
    return {
      tokenType: 'Bearer',
      accessToken: this.tokens.signAccessToken({ sid: sessionId, sub: userId, exp: Math.floor(now.getTime() / 1000) + ttl }),
      expiresInSeconds: ttl,
      refreshToken,
      userId,
    };
  }

  private refreshExpiry(now: Date): Date {
    return new Date(now.getTime() + this.config.REFRESH_TOKEN_TTL_DAYS * 86_400_000);
  }
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** "k7m2-x9qp-4tfz": 12 characters from an unambiguous alphabet, about 59 bits. */
function newRecoveryCode(): string {
  const bytes = randomBytes(12);
  const chars = Array.from(bytes, (b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}

function normalizeRecoveryCode(code: string): string {
  const compact = code.trim().toLowerCase().replace(/[^a-z0-9]/g, '');
  return compact.length === 12 ? `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8, 12)}` : compact;
}
