import { describe, expect, it } from 'vitest';
import type { BenchmarkKey } from '../key/benchmark-key.js';
import type { PriorSample } from '../public-tables/public-tables.js';
import { key } from '../testing/fixtures.js';
import { leaveGpuOut, leaveOneRowOut, quantile, renderAccuracySection, replaceAccuracySection, summarize, summarizeByTableAndBasis } from './leave-one-out.js';

function sample(k: Partial<BenchmarkKey>, ms: number, table = 't.csv', row = 2): PriorSample {
  return { key: key(k), stepTimeMs: ms, source: `${table}: s`, table, row };
}

const samples: PriorSample[] = [
  sample({}, 1000),
  sample({}, 1100, 't.csv', 3),
  sample({ batchSize: 16 }, 1900, 't.csv', 4),
  sample({ gpuId: 'a100-80gb-sxm' }, 500, 'u.csv', 2),
  sample({ gpuId: 'a100-80gb-sxm', batchSize: 16 }, 950, 'u.csv', 3),
];

describe('leave-one-out', () => {
  it('holds out one row: exact when the key has other rows, else scaled or transferred', () => {
    const records = leaveOneRowOut(samples);
    expect(records).toHaveLength(5);
    expect(records[0]!.estimate.basis).toBe('exact');
    expect(records[0]!.estimate.p50Ms).toBeCloseTo(1100, 6);
    expect(records[0]!.ape).toBeCloseTo(0.1, 9);
    expect(records[2]!.estimate.basis).toBe('scaled');
    expect(records.every((r) => r.mode === 'row')).toBe(true);
  });

  it('holds out whole GPUs: only transfer or the prior is left', () => {
    const records = leaveGpuOut(samples);
    expect(records).toHaveLength(5);
    expect(new Set(records.map((r) => r.estimate.basis))).toEqual(new Set(['transferred']));
    expect(leaveGpuOut([sample({}, 1000)])[0]!.estimate.basis).toBe('prior');
  });

  it('summarizes per table and basis', () => {
    const records = [...leaveOneRowOut(samples), ...leaveGpuOut(samples)];
    const rows = summarizeByTableAndBasis(records);
    expect(rows.find((r) => r.mode === 'row' && r.table === 'all' && r.basis === 'all')?.n).toBe(5);
    expect(rows.find((r) => r.mode === 'gpu' && r.table === 'u.csv' && r.basis === 'transferred')?.n).toBe(2);
    expect(summarize([])).toMatchObject({ n: 0 });
    expect(Number.isNaN(summarize([]).coverage)).toBe(true);
    expect(summarizeByTableAndBasis([])).toEqual([]);
  });

  it('nearest-rank quantiles', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });

  it('renders the docs section and replaces it in place', () => {
    const rows = summarizeByTableAndBasis(leaveOneRowOut(samples));
    const section = renderAccuracySection({ rows, machine: 'Test CPU, 4 cores', dateUtc: '2026-01-01 00:00', sampleCount: 5, keyCount: 4, unmapped: [{ table: 't.csv', reason: 'unknown_gpu', detail: "GPU 'X|Y'", rows: 2 }], notes: ['note line'] });
    expect(section.startsWith('## Estimator accuracy (leave-one-out)\n')).toBe(true);
    expect(section).toContain('Test CPU, 4 cores, 2026-01-01 00:00 (UTC)');
    expect(section).toContain('### Hold out one row');
    expect(section).not.toContain('### Hold out a whole GPU model');
    expect(section).toContain("GPU 'X\\|Y'");
    expect(section).toContain('note line');

    const doc = '# Title\n\nIntro.\n\n## Estimator accuracy (leave-one-out)\n\nold\n\n## Later\n\nkept\n';
    const replaced = replaceAccuracySection(doc, '## Estimator accuracy (leave-one-out)\n\nnew\n');
    expect(replaced).toBe('# Title\n\nIntro.\n\n## Estimator accuracy (leave-one-out)\n\nnew\n\n## Later\n\nkept\n');
    expect(replaceAccuracySection('# T\n', 'S')).toBe('# T\n\nS\n');
    expect(replaceAccuracySection('# T', 'S\n')).toBe('# T\n\nS\n');
    expect(replaceAccuracySection('', 'S\n')).toBe('S\n');
    expect(replaceAccuracySection('# T\n\n## Estimator accuracy (leave-one-out)\nold', 'S\n')).toBe('# T\n\nS\n');
  });
});
