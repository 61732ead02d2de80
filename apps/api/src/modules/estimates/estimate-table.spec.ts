import { BenchmarkSnapshot, estimateOffers, prepareJob, type PreparedJob } from '@anneal/benchmarks';
import type { Offer } from '@anneal/providers';
import { describe, expect, it } from 'vitest';
import { offersFingerprint } from './estimate-offers.source.js';
import { buildEstimateTable, selectRows, tableSummary } from './estimate-table.js';
import { usdToMicros } from '../../core/money/usd.js';

function offer(i: number, gpuModelId: string, gpuCount: number, price: bigint): Offer {
  return { providerKind: 'community', offerId: `community:n${i}`, offerType: 'machine', gpuModelId, gpuCount, vramGb: 24, region: 'eu', zone: null, priceMicrosPerGpuHour: price, spot: false, reliability: 1, availability: 'available', simulated: false };
}

function job(method: string): PreparedJob {
  const prepared = prepareJob({ recipe: { modelId: 'meta-llama/Llama-3.1-8B', method, seqLen: 2048, batchSize: 4 }, steps: 1000 });
  if (!prepared.ok) throw new Error(prepared.error.message);
  return prepared.value;
}

describe('estimate table', () => {
  const snapshot = BenchmarkSnapshot.build();
  const offers = [offer(1, 'rtx-4090', 1, 500_000n), offer(2, 'rtx-3090', 1, 200_000n), offer(3, 'h100-sxm', 8, 2_500_000n), offer(4, 'rtx-4090', 1, 400_000n)];

  it('orders rows by p50 cost, marks the one fastest row, and keeps the fastest when limited', () => {
    const table = buildEstimateTable(job('qlora'), offers, snapshot);
    const rows = selectRows(table, 10);
    const costs = rows.map((r) => BigInt(r.costMicros.p50));
    expect(costs).toEqual([...costs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(rows.filter((r) => r.fastest).map((r) => r.gpu.id)).toEqual(['h100-sxm']);
    const limited = selectRows(table, 1);
    expect(limited.map((r) => r.gpu.id)).toEqual([rows[0]!.gpu.id, 'h100-sxm']);
    expect(rows[0]!.sentence).toMatch(/^~[\d.]+ (s|min|h), ~\$[\d,.]+ on 1× RTX \d{4}, community; FLOP-count prior at 40% utilisation$/);
    expect(tableSummary(table)).toMatch(/^Cheapest: .*\(3 more offers\)\. Fastest: .*8× H100 SXM/);
  });

  it('gives every offer exactly what the estimator gives it alone (one estimate per profile, cost per offer)', () => {
    const many = Array.from({ length: 60 }, (_, i) => offer(i, ['rtx-4090', 'rtx-3090', 'a100-80gb-sxm'][i % 3]!, 1 + (i % 2), BigInt(100_000 + i * 12_345)));
    const prepared = job('lora');
    const table = buildEstimateTable(prepared, many, snapshot);
    expect(table.rowCount).toBeGreaterThan(20);
    expect(table.rowCount + table.excluded.reduce((sum, g) => sum + g.offerCount, 0)).toBe(60);
    for (const row of selectRows(table, 60)) {
      const o = many.find((x) => x.offerId === row.offerId)!;
      const alone = estimateOffers(prepared, [{ gpuId: o.gpuModelId, gpuCount: o.gpuCount, priceMicrosPerGpuHour: o.priceMicrosPerGpuHour, providerKind: o.providerKind }], snapshot)[0]!;
      if (!alone.ok) throw new Error(alone.error.message);
      expect(row.costMicros).toEqual({ p10: String(alone.value.costMicros.p10), p50: String(alone.value.costMicros.p50), p90: String(alone.value.costMicros.p90) });
      expect(row.basisText).toBe(alone.value.basisText);
      expect(row.sentence.replace(/, community; .*$/, '')).toBe(alone.value.summary.replace(' (community)', '').replace(/^(~[^,]+), /, '$1, '));
    }
  });

  it('groups offers the recipe cannot fit by GPU and count, with figures', () => {
    const table = buildEstimateTable(job('full'), offers, snapshot);
    expect(table.rowCount).toBe(1);
    const group = table.excluded.find((g) => g.gpu.id === 'rtx-4090')!;
    expect(group).toMatchObject({ code: 'does_not_fit_memory', gpuCount: 1, offerCount: 2, offerIds: ['community:n1', 'community:n4'], haveGb: 24 });
    expect(group.needGb).toBeGreaterThan(100);
    expect(group.message).toMatch(/^needs ~\d+ GB, RTX 4090 has 24 GB$/);
    expect(tableSummary(buildEstimateTable(job('full'), offers.slice(0, 2), snapshot))).toMatch(/^No matching offer has enough GPU memory/);
    expect(tableSummary(buildEstimateTable(job('full'), [], snapshot))).toMatch(/^No offers match/);
  });

  it('converts USD to micro-dollars exactly and fingerprints offers by content', () => {
    expect(usdToMicros('1.50')).toBe(1_500_000n);
    expect(usdToMicros('0.000001')).toBe(1n);
    expect(usdToMicros('123456789.123456')).toBe(123_456_789_123_456n);
    expect(offersFingerprint(offers)).toBe(offersFingerprint(offers.map((o) => ({ ...o }))));
    const changed = (change: Partial<Offer>) => offersFingerprint([{ ...offers[0]!, ...change }, ...offers.slice(1)]);
    const changes: Partial<Offer>[] = [
      { priceMicrosPerGpuHour: offers[0]!.priceMicrosPerGpuHour + 1n },
      { reliability: offers[0]!.reliability - 0.001 },
      { gpuCount: offers[0]!.gpuCount + 1 },
      { vramGb: offers[0]!.vramGb + 1 },
      { availability: offers[0]!.availability === 'available' ? 'likely' : 'available' },
      { region: `${offers[0]!.region}-2` },
      { spot: !offers[0]!.spot },
      { simulated: !offers[0]!.simulated },
      { offerId: `${offers[0]!.offerId}x` },
    ];
    const prints = changes.map(changed);
    expect(new Set([offersFingerprint(offers), ...prints]).size).toBe(changes.length + 1);
    // Order counts too: the table's rows follow it.
    expect(offersFingerprint([...offers].reverse())).not.toBe(offersFingerprint(offers));
  });
});
