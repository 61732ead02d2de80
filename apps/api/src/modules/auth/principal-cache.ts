import { hash } from 'node:crypto';
import { affects, type AuthInvalidation } from './auth-invalidation.js';
import type { Principal } from './principal.js';

export interface PrincipalCacheOptions {
  /** Longest a resolved principal is served without asking the database again (real time). */
  ttlMs: number;
  maxEntries: number;
}

export const DEFAULT_PRINCIPAL_CACHE: PrincipalCacheOptions = { ttlMs: 5_000, maxEntries: 10_000 };

interface Entry {
  principal: Principal;
  /** Monotonic time (performance.now) after which the entry is not served. */
  staleAtMs: number;
  /** Domain time (the app's clock, ms) at which the credential itself stops: token or session expiry. */
  validUntilMs: number;
}

/**
 * Principals the auth guard resolved, keyed by a hash of the credential and the organization it
 * asked to act for, so a hit costs no database round trip. Only successes are kept. An entry is
 * served until the first of: its TTL, the credential's own expiry, or an invalidation naming its
 * session, API key, user or membership.
 *
 * A lookup that was in flight while an invalidation arrived may have read the old rows, so its
 * result is not stored (`generation` tells); the TTL only bounds an invalidation that never came.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  private generationCounter = 0;

  constructor(private readonly options: PrincipalCacheOptions = DEFAULT_PRINCIPAL_CACHE) {}

  /** The cache key: neither the credential nor anything it could be recovered from is kept. */
  static keyOf(credential: string, orgId: string): string {
    return hash('sha256', `${credential}\n${orgId}`, 'base64');
  }

  /** Changes with every invalidation; a lookup started under another generation is not stored. */
  get generation(): number {
    return this.generationCounter;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, monotonicNowMs: number, domainNowMs: number): Principal | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (monotonicNowMs >= entry.staleAtMs || domainNowMs >= entry.validUntilMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.principal;
  }

  /** Stores a principal resolved from the database, unless an invalidation came in meanwhile. */
  set(key: string, principal: Principal, lookupGeneration: number, monotonicNowMs: number, validUntilMs: number): boolean {
    if (lookupGeneration !== this.generationCounter) return false;
    this.entries.delete(key);
    this.entries.set(key, { principal: Object.freeze(principal), staleAtMs: monotonicNowMs + this.options.ttlMs, validUntilMs });
    // Oldest first: Map iteration follows insertion order.
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    return true;
  }

  /** Drops every entry the invalidation affects; returns how many. */
  invalidate(invalidation: AuthInvalidation): number {
    this.generationCounter += 1;
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (affects(invalidation, entry.principal)) {
        this.entries.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  /** How many entries an invalidation would drop (nothing is dropped). */
  countAffected(invalidation: AuthInvalidation): number {
    let count = 0;
    for (const entry of this.entries.values()) if (affects(invalidation, entry.principal)) count += 1;
    return count;
  }

  clear(): void {
    this.generationCounter += 1;
    this.entries.clear();
  }
}
