import { describe, expect, it } from 'vitest';
import { expectEventually } from './eventually.js';

describe('expectEventually', () => {
  it('returns once the condition holds', async () => {
    let calls = 0;
    const value = await expectEventually(() => {
      calls += 1;
      if (calls < 3) throw new Error('not yet');
      return calls;
    }, 1000, 1);
    expect(value).toBe(3);
  });

  it('fails with the last reason when the condition never holds', async () => {
    await expect(expectEventually(() => false, 30, 5)).rejects.toThrow(/not met within 30 ms/);
  });
});
