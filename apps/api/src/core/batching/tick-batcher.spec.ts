import { describe, expect, it } from 'vitest';
import { TickBatcher } from './tick-batcher.js';

describe('TickBatcher', () => {
  it('serves the calls of one tick with one run, and the next tick with another', async () => {
    const runs: string[][] = [];
    const batcher = new TickBatcher<string, number, number>(async (items) => {
      runs.push([...items.keys()]);
      return [...items.values()].reduce((a, b) => a + b, 0);
    });
    const first = await Promise.all([batcher.add('a', 1), batcher.add('b', 2), batcher.add('c', 3)]);
    expect(first).toEqual([6, 6, 6]);
    expect(await batcher.add('d', 4)).toBe(4);
    expect(runs).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('gives every caller of a failed batch the error, and the next batch runs afresh', async () => {
    let fail = true;
    const batcher = new TickBatcher<string, number, string>(async () => {
      if (fail) throw new Error('database down');
      return 'ok';
    });
    const results = await Promise.allSettled([batcher.add('a', 1), batcher.add('b', 2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await batcher.add('c', 3)).toBe('ok');
  });
});
