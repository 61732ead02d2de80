import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import page1 from './fixtures/billing-catalog-skus.page1.json' with { type: 'json' };
import page2 from './fixtures/billing-catalog-skus.page2.json' with { type: 'json' };
import { GCP_PRICING, gcpPricingCatalogSchema, type GcpPricingCatalog } from './gcp-pricing.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { billingSkuPageSchema, fetchComputeSkus, parseGpuSkuPrices, refreshPricingCatalog, refreshPricingCli, type FetchLike } from './refresh-pricing.js';

const skus = [...billingSkuPageSchema.parse(page1).skus, ...billingSkuPageSchema.parse(page2).skus];

const current: GcpPricingCatalog = {
  source: 'seed',
  fetchedAt: '2026-01-01',
  currency: 'USD',
  entries: [
    { acceleratorType: 'nvidia-tesla-t4', region: 'us-central1', zones: ['us-central1-a'], onDemandMicrosPerGpuHour: 350000, spotMicrosPerGpuHour: 140000 },
    { acceleratorType: 'nvidia-h100-80gb', region: 'us-central1', zones: ['us-central1-a'], onDemandMicrosPerGpuHour: 1, spotMicrosPerGpuHour: null },
    { acceleratorType: 'nvidia-l4', region: 'asia-east1', zones: ['asia-east1-a'], onDemandMicrosPerGpuHour: 700000, spotMicrosPerGpuHour: 280000 },
  ],
};

describe('parseGpuSkuPrices (saved Cloud Billing Catalog response)', () => {
  it('reads on-demand and spot GPU prices per region in micro-dollars', () => {
    const { prices } = parseGpuSkuPrices(skus);
    const find = (type: string, region: string, spot: boolean) =>
      prices.find((p) => p.acceleratorType === type && p.region === region && p.spot === spot)?.microsPerGpuHour;
    expect(find('nvidia-tesla-t4', 'us-central1', false)).toBe(350_000);
    expect(find('nvidia-tesla-t4', 'us-central1', true)).toBe(88_000);
    expect(find('nvidia-tesla-a100', 'us-east1', false)).toBe(2_933_908);
    expect(find('nvidia-a100-80gb', 'us-central1', false)).toBe(3_928_080);
    expect(find('nvidia-h100-80gb', 'us-west1', true)).toBe(2_253_000);
    expect(find('nvidia-tesla-t4', 'europe-west4', false)).toBe(410_000);
    expect(find('nvidia-tesla-v100', 'asia-east1', false)).toBe(2_480_000);
  });

  it('ignores commitments and non-GPU SKUs and reports GPU names it does not know', () => {
    const { prices, unmatched } = parseGpuSkuPrices(skus);
    expect(prices.some((p) => p.skuId === '0006-A100-1Y' || p.skuId === '0007-N1-CORE')).toBe(false);
    expect(unmatched).toEqual([
      'Nvidia Tesla P4 GPU running in Americas',
      'Nvidia Tesla T4 GPU attached to a Virtual Workstation running in Americas',
    ]);
  });
});

describe('refreshPricingCatalog', () => {
  it('updates known rows, keeps zones, keeps and reports what the API did not price, lists new regions', () => {
    const report = refreshPricingCatalog(current, skus, new Date('2026-11-22T08:00:00Z'));
    expect(report.catalog.fetchedAt).toBe('2026-11-22');
    expect(report.catalog.source).toContain('Cloud Billing Catalog API');
    const [t4, h100, l4] = report.catalog.entries;
    expect(t4).toMatchObject({ zones: ['us-central1-a'], onDemandMicrosPerGpuHour: 350000, spotMicrosPerGpuHour: 88000 });
    expect(h100).toMatchObject({ onDemandMicrosPerGpuHour: 9_796_380, spotMicrosPerGpuHour: 2_253_000 });
    expect(l4).toMatchObject({ onDemandMicrosPerGpuHour: 700000, spotMicrosPerGpuHour: 280000 });
    expect(report.changed).toEqual(['nvidia-tesla-t4 us-central1 spot', 'nvidia-h100-80gb us-central1 on-demand', 'nvidia-h100-80gb us-central1 spot']);
    expect(report.notFound).toEqual(['nvidia-l4 asia-east1 on-demand', 'nvidia-l4 asia-east1 spot']);
    expect(report.newRegions).toContain('nvidia-l4 us-east1');
    expect(report.newRegions).not.toContain('nvidia-tesla-t4 us-central1');
    expect(() => gcpPricingCatalogSchema.parse(report.catalog)).not.toThrow();
  });
});

describe('fetchComputeSkus', () => {
  it('follows page tokens and sends the key as the API-key query parameter', async () => {
    const urls: string[] = [];
    const fetchImpl: FetchLike = async (url) => {
      urls.push(url);
      const body = new URL(url).searchParams.get('pageToken') === 'page-2' ? page2 : page1;
      return { ok: true, status: 200, json: async () => body };
    };
    const fetched = await fetchComputeSkus('KEY123', fetchImpl, 'http://billing.test/v1');
    expect(fetched).toHaveLength(skus.length);
    expect(urls).toHaveLength(2);
    expect(urls[0]).toContain('/v1/services/6F81-5844-456A/skus?key=KEY123');
  });

  it('fails with the HTTP status on an error answer', async () => {
    const fetchImpl: FetchLike = async () => ({ ok: false, status: 403, json: async () => ({}) });
    await expect(fetchComputeSkus('bad', fetchImpl)).rejects.toThrow('HTTP 403');
  });
});

describe('the shipped pricing file', () => {
  it('is a valid catalog with a source and a date, and every row has a machine shape', async () => {
    expect(GCP_PRICING.source.length).toBeGreaterThan(10);
    expect(GCP_PRICING.entries.length).toBeGreaterThan(0);
    const { gpuCountsFor } = await import('./gcp-pricing.js');
    for (const entry of GCP_PRICING.entries) expect(gpuCountsFor(entry.acceleratorType).length).toBeGreaterThan(0);
  });

  it('round-trips through the writer the command uses', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gcp-pricing-'));
    try {
      const file = join(dir, 'pricing.json');
      const report = refreshPricingCatalog(GCP_PRICING, skus, new Date('2026-11-22T00:00:00Z'));
      await writeFile(file, `${JSON.stringify(report.catalog, null, 2)}\n`);
      expect(gcpPricingCatalogSchema.parse(JSON.parse(await readFile(file, 'utf8')))).toEqual(report.catalog);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('refreshPricingCli', () => {
  it('reads the key from a file, fetches every page from the API and rewrites the data file', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      seen.push(`${url.pathname}?key=${url.searchParams.get('key')}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(url.searchParams.get('pageToken') === 'page-2' ? page2 : page1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = await mkdtemp(join(tmpdir(), 'gcp-refresh-'));
    try {
      const out = join(dir, 'gcp-pricing.data.json');
      const keyFile = join(dir, 'key');
      await writeFile(out, JSON.stringify(current));
      await writeFile(keyFile, 'SECRET-BILLING-KEY\n');
      const lines: string[] = [];
      const port = (server.address() as AddressInfo).port;
      const code = await refreshPricingCli(['--api-key-file', keyFile, '--out', out, '--base-url', `http://127.0.0.1:${port}/v1`], (line) => lines.push(line));
      expect(code).toBe(0);
      expect(seen).toEqual(['/v1/services/6F81-5844-456A/skus?key=SECRET-BILLING-KEY', '/v1/services/6F81-5844-456A/skus?key=SECRET-BILLING-KEY']);
      const written = gcpPricingCatalogSchema.parse(JSON.parse(await readFile(out, 'utf8')));
      expect(written.entries[1]?.onDemandMicrosPerGpuHour).toBe(9_796_380);
      expect(lines.join('\n')).toContain('3 prices changed');
      expect(lines.join('\n')).not.toContain('SECRET-BILLING-KEY');
      expect(await refreshPricingCli([], () => undefined)).toBe(2);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
