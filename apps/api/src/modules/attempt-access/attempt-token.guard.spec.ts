import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attemptTokenHash } from '../jobs/scheduler.service.js';
import { hashAttemptToken } from './attempt-token.guard.js';

describe('attempt token hashing', () => {
  it('agrees with the hash the scheduler stores for every token it could issue', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const token = `att_${Buffer.from(bytes).toString('base64url')}`;
        expect(hashAttemptToken(token)).toBe(attemptTokenHash(token));
        expect(hashAttemptToken(token)).toMatch(/^[0-9a-f]{64}$/);
      }),
    );
  });
});
