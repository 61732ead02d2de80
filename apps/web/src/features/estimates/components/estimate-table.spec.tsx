import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toEstimate, toEstimateBody, type EstimateRow } from '../api/estimates.api.js';
import { EstimateTable, headlineOf, headlineRow } from './estimate-table.js';

afterEach(cleanup);

function row(overrides: Partial<EstimateRow> = {}): EstimateRow {
  return {
    offerId: 'community:n1',
    providerKind: 'community',
    providerName: null,
    gpuModelId: 'rtx-4090',
    gpuName: 'RTX 4090',
    gpuCount: 1,
    region: 'eu-west',
    spot: false,
    priceMicrosPerGpuHour: '450000',
    runtimeSeconds: { p10: 31 * 60, p50: 38 * 60, p90: 52 * 60 },
    costMicros: { p10: '232500', p50: '680000', p90: '1390001' },
    basis: 'exact',
    basisText: 'from 12 runs like this',
    sampleCount: 12,
    summary: '~38 min, ~$0.68 on 1× RTX 4090 (community)',
    fastest: false,
    cheapest: false,
    memory: { needGb: 11.2, haveGb: 24 },
    ...overrides,
  };
}

describe('EstimateTable', () => {
  it('formats one row per offer: GPU and provider, price per GPU-hour, p50 with its p10–p90 range, cost and basis', () => {
    render(<EstimateTable rows={[row(), row({ offerId: 'gcp:a100', providerKind: 'gcp', gpuName: 'A100 80GB', gpuCount: 2, priceMicrosPerGpuHour: '3673000', region: 'us-central1', spot: true, fastest: true, basis: 'prior', basisText: 'FLOP-count prior at 35% utilisation', runtimeSeconds: { p10: 600, p50: 900, p90: 7500 }, costMicros: { p10: '1224333', p50: '1836500', p90: '15304166' } })]} />);
    const rows = screen.getAllByTestId('estimate-row');
    expect(rows).toHaveLength(2);
    const cells = (i: number) => within(rows[i] as HTMLElement).getAllByRole('cell').map((c) => c.textContent);
    expect(cells(0)).toEqual(['1× RTX 4090Community, eu-west', '$0.45', '38 min31 min–52 min', '$0.68$0.23–$1.39', 'measured from 12 runs like this']);
    expect(cells(1)).toEqual(['2× A100 80GBfastestGCP, us-central1, spot', '$3.673', '15 min10 min–2 h 05 min', '$1.84$1.22–$15.30', 'prior FLOP-count prior at 35% utilisation']);
  });

  it('lets a keyboard user pick an offer', () => {
    const onSelect = vi.fn();
    render(<EstimateTable rows={[row(), row({ offerId: 'b', gpuName: 'L4' })]} selectedOfferId="community:n1" onSelect={onSelect} />);
    const radio = screen.getByRole('radio', { name: 'Choose 1× L4 from Community' });
    fireEvent.click(radio);
    expect(onSelect).toHaveBeenCalledWith(expect.objectContaining({ offerId: 'b' }));
    expect((screen.getByRole('radio', { name: 'Choose 1× RTX 4090 from Community' }) as HTMLInputElement).checked).toBe(true);
  });
});

describe('headline', () => {
  it('reads "~38 min, ~$0.68" from the p50s', () => {
    expect(headlineOf(row())).toBe('~38 min, ~$0.68');
  });

  it('headlines the cheapest row by exact comparison', () => {
    const a = row({ offerId: 'a', fastest: true, costMicros: { p10: '1', p50: '9007199254740993', p90: '1' } });
    const b = row({ offerId: 'b', costMicros: { p10: '1', p50: '9007199254740992', p90: '1' } });
    expect(headlineRow([a, b])?.offerId).toBe('b'); // one micro-dollar apart above 2^53
    expect(headlineRow([])).toBeUndefined();
  });
});

describe('toEstimateBody', () => {
  it('speaks the estimate endpoint\'s recipe names', () => {
    expect(
      toEstimateBody({
        recipe: { baseModelId: 'meta-llama/Llama-3.1-8B', method: 'qlora', precision: 'bf16', quantization: 'nf4', seqLen: 2048, batchSize: 4, gradAccum: 4, steps: 500 },
        resources: { gpuCount: 1 },
        providerAllowlist: ['community'],
        maxPricePerGpuHourUsd: '0.80',
        datasetId: 'ignored-by-estimates',
      }),
    ).toEqual({
      recipe: { baseModelId: 'meta-llama/Llama-3.1-8B', method: 'qlora', precision: 'bf16', quantization: 'nf4', sequenceLength: 2048, batchSize: 4, gradientAccumulation: 4, steps: 500 },
      resources: { gpuCount: 1 },
      providers: ['community'],
      maxPricePerGpuHour: '0.80',
    });
  });
});

describe('toEstimate', () => {
  it('reads the API\'s quote: id, gpu, sentence, excluded message, and marks the cheapest', () => {
    const estimate = toEstimate({
      id: 'q2',
      summary: 'From ~38 min, ~$0.68',
      rows: [
        { offerId: 'x', providerKind: 'gcp', gpu: { id: 'a100-80gb-sxm', name: 'A100 80GB' }, gpuCount: 1, priceMicrosPerGpuHour: '3673000', runtimeSeconds: { p10: 1, p50: 2, p90: 3 }, costMicros: { p10: '9', p50: '10', p90: '11' }, basis: 'prior', basisText: 'p', sentence: 's1', fastest: true },
        { offerId: 'y', providerKind: 'community', gpu: { id: 'rtx-4090', name: 'RTX 4090' }, gpuCount: 1, priceMicrosPerGpuHour: '450000', runtimeSeconds: { p10: 3, p50: 4, p90: 5 }, costMicros: { p10: '1', p50: '2', p90: '3' }, basis: 'exact', basisText: 'e', sentence: 's2', fastest: false },
      ],
      excluded: [{ gpu: { id: 'rtx-3060', name: 'RTX 3060' }, gpuCount: 1, code: 'insufficient_memory', message: 'needs ~19 GB, RTX 3060 has 12 GB', needGb: 19, haveGb: 12, offerCount: 2, offerIds: [] }],
      notes: ['assumed a 8B-parameter text model'],
    });
    expect(estimate.quoteId).toBe('q2');
    expect(estimate.summary).toBe('From ~38 min, ~$0.68');
    expect(estimate.rows.map((r) => [r.offerId, r.gpuName, r.summary, r.fastest, r.cheapest])).toEqual([
      ['x', 'A100 80GB', 's1', true, false],
      ['y', 'RTX 4090', 's2', false, true],
    ]);
    expect(estimate.excluded[0]).toMatchObject({ gpuName: 'RTX 3060', reason: 'needs ~19 GB, RTX 3060 has 12 GB' });
    expect(estimate.notes).toEqual(['assumed a 8B-parameter text model']);
  });

  it('keeps money as digit strings whether sent as strings or { micros, usd }', () => {
    const estimate = toEstimate({
      quoteId: 'q1',
      rows: [{ offerId: 'o', providerKind: 'community', gpu: { id: 'rtx-4090', name: 'RTX 4090' }, gpuCount: 1, priceMicrosPerGpuHour: { micros: '450000', usd: '$0.45' }, runtimeSeconds: { p10: 1, p50: 2, p90: 3 }, costMicros: { p10: '1', p50: '2', p90: '3' }, basis: 'exact', basisText: 'x' }],
      excluded: [{ gpuName: 'RTX 3060', gpuCount: 1, reason: 'needs 19.2 GB, has 12 GB', needGb: 19.2, haveGb: 12 }],
    });
    expect(estimate.quoteId).toBe('q1');
    expect(estimate.rows[0]?.priceMicrosPerGpuHour).toBe('450000');
    expect(estimate.rows[0]?.gpuName).toBe('RTX 4090');
    expect(estimate.rows[0]?.costMicros).toEqual({ p10: '1', p50: '2', p90: '3' });
    expect(estimate.excluded).toEqual([{ gpuName: 'RTX 3060', gpuCount: 1, reason: 'needs 19.2 GB, has 12 GB', needGb: 19.2, haveGb: 12 }]);
  });
});
