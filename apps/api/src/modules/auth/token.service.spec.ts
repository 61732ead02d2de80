import { describe, expect, it } from 'vitest';
import { lockoutAfter } from './auth.service.js';
import { TokenService } from './token.service.js';

describe('TokenService', () => {
  const tokens = new TokenService('s'.repeat(40));
  const now = new Date('2026-11-22T10:00:00Z');
  const exp = Math.floor(now.getTime() / 1000) + 60;

  it('verifies its own access tokens until they expire', () => {
    const token = tokens.signAccessToken({ sid: 'session', sub: 'user', exp });
    expect(tokens.verifyAccessToken(token, now)).toEqual({ ok: true, claims: { sid: 'session', sub: 'user', exp } });
    expect(tokens.verifyAccessToken(token, new Date(exp * 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a token signed with another secret or with an edited payload', () => {
    const other = new TokenService('o'.repeat(40)).signAccessToken({ sid: 's', sub: 'u', exp });
    expect(tokens.verifyAccessToken(other, now)).toEqual({ ok: false, reason: 'malformed' });
    const token = tokens.signAccessToken({ sid: 's', sub: 'u', exp });
    const [, , signature] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sid: 's', sub: 'admin', exp })).toString('base64url');
    expect(tokens.verifyAccessToken(`at.${forgedPayload}.${signature}`, now)).toEqual({ ok: false, reason: 'malformed' });
    expect(tokens.verifyAccessToken('not-a-token', now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('hashes secrets with a key, so the same value under another key differs', () => {
    expect(tokens.hashSecret('x')).toBe(tokens.hashSecret('x'));
    expect(new TokenService('o'.repeat(40)).hashSecret('x')).not.toBe(tokens.hashSecret('x'));
    expect(TokenService.equalHashes('abc', 'abc')).toBe(true);
    expect(TokenService.equalHashes('abc', 'abd')).toBe(false);
    expect(TokenService.equalHashes('abc', 'abcd')).toBe(false);
  });
});

describe('lockoutAfter', () => {
  const now = new Date('2026-11-22T10:00:00Z');
  const seconds = (failures: number) => {
    const until = lockoutAfter(failures, now);
    return until ? (until.getTime() - now.getTime()) / 1000 : 0;
  };

  it('allows four failures, then doubles from 30 s up to 15 minutes', () => {
    expect([1, 2, 3, 4].map(seconds)).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8].map(seconds)).toEqual([30, 60, 120, 240]);
    expect(seconds(20)).toBe(900);
  });
});
