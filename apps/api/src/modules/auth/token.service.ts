import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface AccessTokenClaims {
  /** Session id. */
  sid: string;
  /** User id. */
  sub: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

const ACCESS_PREFIX = 'at.';

/**
 * Access tokens are short-lived and signed (HMAC-SHA256), so checking one needs no lookup of the
 * token itself; the session they name is still checked, so logout and revocation take effect at
 * once. Refresh tokens, API keys and recovery codes are random and stored only as keyed hashes.
 */
export class TokenService {
  constructor(private readonly secret: string) {}

  signAccessToken(claims: AccessTokenClaims): string {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${ACCESS_PREFIX}${payload}.${this.sign(payload)}`;
  }

  /** The claims when the signature is right and the token unexpired; a reason otherwise. */
  verifyAccessToken(token: string, now: Date): { ok: true; claims: AccessTokenClaims } | { ok: false; reason: 'malformed' | 'expired' } {
    if (!token.startsWith(ACCESS_PREFIX)) return { ok: false, reason: 'malformed' };
    const [payload, signature] = token.slice(ACCESS_PREFIX.length).split('.');
    if (!payload || !signature) return { ok: false, reason: 'malformed' };
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'malformed' };
    let claims: AccessTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AccessTokenClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return { ok: false, reason: 'malformed' };
    if (claims.exp * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }

  /** A random token with a readable kind prefix: `rt_…`, `ak_…`. */
  randomToken(prefix: string, bytes = 32): string {
    return `${prefix}${randomBytes(bytes).toString('base64url')}`;
  }

  /** Keyed hash for storing high-entropy secrets (refresh tokens, API keys, recovery codes). */
  hashSecret(value: string): string {
    return createHmac('sha256', this.secret).update(value).digest('hex');
  }

  /** Same-length comparison of two stored hashes. */
  static equalHashes(a: string, b: string): boolean {
    const left = Buffer.from(a);
    const right = Buffer.from(b);
    return left.length === right.length && timingSafeEqual(left, right);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(`access:${payload}`).digest('base64url');
  }
}

/** Opaque reference used to anonymize a deleted user in kept records. */
export function anonymousRef(userId: string, secret: string): string {
  return createHash('sha256').update(`${secret}:deleted:${userId}`).digest('hex').slice(0, 16);
}
