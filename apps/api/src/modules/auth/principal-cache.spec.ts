import { describe, expect, it } from 'vitest';
import { parseInvalidationMessage } from './auth-invalidation.js';
import { PrincipalCache } from './principal-cache.js';
import type { Principal } from './principal.js';

const USER = '0190a000-0000-7000-8000-000000000001';
const OTHER_USER = '0190a000-0000-7000-8000-000000000002';
const ORG_A = '0190a000-0000-7000-8000-00000000000a';
const ORG_B = '0190a000-0000-7000-8000-00000000000b';
const SESSION = '0190a000-0000-7000-8000-0000000000c1';
const KEY_ID = '0190a000-0000-7000-8000-0000000000d1';

function session(orgId: string, userId = USER, sessionId = SESSION): Principal {
  return { kind: 'session', userId, orgId, orgRole: 'owner', isAdmin: false, twoFactorEnabled: false, scopes: 'all', sessionId };
}

function apiKey(orgId: string): Principal {
  return { kind: 'api_key', userId: USER, orgId, orgRole: 'member', isAdmin: false, twoFactorEnabled: false, scopes: ['jobs:read'], apiKeyId: KEY_ID };
}

describe('PrincipalCache', () => {
  it('keys by credential and organization: the same token asking for another org is a miss', () => {
    const cache = new PrincipalCache({ ttlMs: 5_000, maxEntries: 10 });
    const keyA = PrincipalCache.keyOf('at.token', ORG_A);
    cache.set(keyA, session(ORG_A), cache.generation, 0, Number.POSITIVE_INFINITY);
    expect(cache.get(keyA, 1, 0)?.orgId).toBe(ORG_A);
    expect(cache.get(PrincipalCache.keyOf('at.token', ORG_B), 1, 0)).toBeUndefined();
    expect(cache.get(PrincipalCache.keyOf('at.token', ''), 1, 0)).toBeUndefined();
    expect(cache.get(PrincipalCache.keyOf('at.other', ORG_A), 1, 0)).toBeUndefined();
    // The key never contains the credential.
    expect(keyA).not.toContain('at.token');
  });

  it('serves an entry until its TTL or the credential expiry, whichever is first', () => {
    const cache = new PrincipalCache({ ttlMs: 5_000, maxEntries: 10 });
    const key = PrincipalCache.keyOf('at.token', '');
    cache.set(key, session(ORG_A), cache.generation, 1_000, 50_000);
    expect(cache.get(key, 5_999, 10_000)).toBeDefined();
    expect(cache.get(key, 6_000, 10_000)).toBeUndefined();
    cache.set(key, session(ORG_A), cache.generation, 1_000, 50_000);
    expect(cache.get(key, 2_000, 49_999)).toBeDefined();
    expect(cache.get(key, 2_000, 50_000)).toBeUndefined();
  });

  it('drops exactly the entries an invalidation names', () => {
    const cache = new PrincipalCache({ ttlMs: 5_000, maxEntries: 100 });
    const entries = {
      sessionA: [PrincipalCache.keyOf('at.1', ORG_A), session(ORG_A)],
      sessionB: [PrincipalCache.keyOf('at.1', ORG_B), session(ORG_B)],
      other: [PrincipalCache.keyOf('at.2', ''), session(ORG_A, OTHER_USER, '0190a000-0000-7000-8000-0000000000e1')],
      key: [PrincipalCache.keyOf('ak_x', ''), apiKey(ORG_A)],
    } as const;
    const fill = () => {
      for (const [key, principal] of Object.values(entries)) cache.set(key, principal, cache.generation, 0, Number.POSITIVE_INFINITY);
    };
    const present = () => Object.entries(entries).filter(([, [key]]) => cache.get(key, 1, 0) !== undefined).map(([name]) => name);

    fill();
    expect(cache.invalidate({ kind: 'membership', userId: USER, orgId: ORG_A })).toBe(2);
    expect(present()).toEqual(['sessionB', 'other']);
    fill();
    cache.invalidate({ kind: 'session', sessionId: SESSION });
    expect(present()).toEqual(['other', 'key']);
    fill();
    cache.invalidate({ kind: 'api_key', apiKeyId: KEY_ID });
    expect(present()).toEqual(['sessionA', 'sessionB', 'other']);
    fill();
    cache.invalidate({ kind: 'user', userId: USER });
    expect(present()).toEqual(['other']);
  });

  it('does not store a lookup that an invalidation overtook', () => {
    const cache = new PrincipalCache({ ttlMs: 5_000, maxEntries: 10 });
    const key = PrincipalCache.keyOf('at.token', '');
    const started = cache.generation;
    cache.invalidate({ kind: 'user', userId: OTHER_USER });
    expect(cache.set(key, session(ORG_A), started, 0, Number.POSITIVE_INFINITY)).toBe(false);
    expect(cache.get(key, 1, 0)).toBeUndefined();
    expect(cache.set(key, session(ORG_A), cache.generation, 0, Number.POSITIVE_INFINITY)).toBe(true);
  });

  it('stays within its size, dropping the oldest', () => {
    const cache = new PrincipalCache({ ttlMs: 5_000, maxEntries: 3 });
    for (let i = 0; i < 5; i += 1) cache.set(PrincipalCache.keyOf(`at.${i}`, ''), session(ORG_A), cache.generation, 0, Number.POSITIVE_INFINITY);
    expect(cache.size).toBe(3);
    expect(cache.get(PrincipalCache.keyOf('at.0', ''), 1, 0)).toBeUndefined();
    expect(cache.get(PrincipalCache.keyOf('at.4', ''), 1, 0)).toBeDefined();
  });

  it('hands out principals that cannot be changed in place', () => {
    const cache = new PrincipalCache({ ttlMs: 5_000, maxEntries: 3 });
    const key = PrincipalCache.keyOf('at.token', '');
    cache.set(key, session(ORG_A), cache.generation, 0, Number.POSITIVE_INFINITY);
    const principal = cache.get(key, 1, 0)!;
    expect(() => {
      (principal as { orgId: string }).orgId = ORG_B;
    }).toThrow(TypeError);
  });
});

describe('auth invalidation messages', () => {
  it('parses what replicas publish and refuses anything else', () => {
    const invalidations = [
      { kind: 'session', sessionId: SESSION },
      { kind: 'api_key', apiKeyId: KEY_ID },
      { kind: 'user', userId: USER },
      { kind: 'membership', userId: USER, orgId: ORG_A },
    ];
    expect(parseInvalidationMessage({ schemaVersion: 1, invalidations })).toEqual(invalidations);
    expect(parseInvalidationMessage({ schemaVersion: 2, invalidations })).toBeUndefined();
    expect(parseInvalidationMessage({ schemaVersion: 1, invalidations: [{ kind: 'user', userId: 'not-an-id' }] })).toBeUndefined();
    expect(parseInvalidationMessage({ schemaVersion: 1, invalidations: [{ kind: 'membership', userId: USER }] })).toBeUndefined();
    expect(parseInvalidationMessage(null)).toBeUndefined();
  });
});
