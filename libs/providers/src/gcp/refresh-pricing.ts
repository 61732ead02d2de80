#!/usr/bin/env node
/**
 * Refreshes `gcp-pricing.data.json` from GCP's public pricing (Cloud Billing Catalog API,
 * Compute Engine service 6F81-5844-456A) given an API key:
 *
 *   npx tsc -p libs/providers/tsconfig.build.json
 *   node libs/providers/dist/gcp/refresh-pricing.js --api-key-file ~/.gcp-billing-key [--out path]
 *
 * The key is read from a file (never an argument, so it stays out of `ps` and shell history).
 * Prices are updated for the (accelerator type, region) rows the file already has; the Billing
 * API does not say which zones carry a GPU, so zones are kept as they are, and regions the file
 * lacks are reported, not added. Parsing is pure (`parseGpuSkuPrices`, `refreshPricingCatalog`)
 * and unit-tested on a saved response.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { gcpPricingCatalogSchema, type GcpPricingCatalog } from './gcp-pricing.js';

export const COMPUTE_ENGINE_BILLING_SERVICE = 'services/6F81-5844-456A';
export const CLOUD_BILLING_BASE_URL = 'https://cloudbilling.googleapis.com/v1';

const moneySchema = z.object({ currencyCode: z.string(), units: z.string().optional(), nanos: z.number().int().optional() });
const skuSchema = z.object({
  skuId: z.string(),
  description: z.string(),
  category: z.object({ resourceFamily: z.string(), resourceGroup: z.string(), usageType: z.string() }),
  serviceRegions: z.array(z.string()).default([]),
  pricingInfo: z
    .array(
      z.object({
        pricingExpression: z.object({
          usageUnit: z.string(),
          tieredRates: z.array(z.object({ startUsageAmount: z.number().optional(), unitPrice: moneySchema })).default([]),
        }),
      }),
    )
    .default([]),
});
export type BillingSku = z.infer<typeof skuSchema>;

export const billingSkuPageSchema = z.object({ skus: z.array(skuSchema).default([]), nextPageToken: z.string().optional() });
export type BillingSkuPage = z.infer<typeof billingSkuPageSchema>;

/**
 * SKU GPU names (the part of the description before " GPU running in") → GCP accelerator types.
 * Exact names only: a SKU whose name is not here is reported, never matched by resemblance.
 */
const SKU_GPU_NAMES: Record<string, string> = {
  'nvidia tesla t4': 'nvidia-tesla-t4',
  'nvidia l4': 'nvidia-l4',
  'nvidia tesla v100': 'nvidia-tesla-v100',
  'nvidia tesla a100': 'nvidia-tesla-a100',
  'nvidia tesla a100 80gb': 'nvidia-a100-80gb',
  'a100 80gb': 'nvidia-a100-80gb',
  'nvidia h100 80gb': 'nvidia-h100-80gb',
};

export interface GpuSkuPrice {
  acceleratorType: string;
  region: string;
  spot: boolean;
  microsPerGpuHour: number;
  skuId: string;
}

export interface ParsedGpuSkus {
  prices: GpuSkuPrice[];
  /** GPU SKU descriptions that named no known accelerator type. */
  unmatched: string[];
}

function moneyToMicros(money: z.infer<typeof moneySchema>): number {
  const units = Number(money.units ?? '0');
  return units * 1_000_000 + Math.round((money.nanos ?? 0) / 1000);
}

/** The per-GPU-hour prices in a list of Compute Engine SKUs (GPU resource group, on-demand and spot). */
export function parseGpuSkuPrices(skus: readonly BillingSku[]): ParsedGpuSkus {
  const prices: GpuSkuPrice[] = [];
  const unmatched: string[] = [];
  for (const sku of skus) {
    if (sku.category.resourceGroup !== 'GPU') continue;
    const usage = sku.category.usageType;
    if (usage !== 'OnDemand' && usage !== 'Preemptible') continue;
    const match = /^(?:Spot Preemptible |Preemptible )?(.+?) GPU running in .+$/i.exec(sku.description.trim());
    const acceleratorType = match?.[1] ? SKU_GPU_NAMES[match[1].toLowerCase()] : undefined;
    if (!acceleratorType) {
      unmatched.push(sku.description);
      continue;
    }
    const expression = sku.pricingInfo[0]?.pricingExpression;
    if (!expression || expression.usageUnit !== 'h') {
      unmatched.push(sku.description);
      continue;
    }
    const rate = [...expression.tieredRates].sort((a, b) => (a.startUsageAmount ?? 0) - (b.startUsageAmount ?? 0))[0];
    if (!rate || rate.unitPrice.currencyCode !== 'USD') {
      unmatched.push(sku.description);
      continue;
    }
    const micros = moneyToMicros(rate.unitPrice);
    for (const region of sku.serviceRegions) {
      prices.push({ acceleratorType, region, spot: usage === 'Preemptible', microsPerGpuHour: micros, skuId: sku.skuId });
    }
  }
  return { prices, unmatched };
}

export interface PricingRefreshReport {
  catalog: GcpPricingCatalog;
  /** '<acceleratorType> <region> <on-demand|spot>' whose price changed. */
  changed: string[];
  /** Rows the API had no price for: kept as they were. */
  notFound: string[];
  /** (accelerator type, region) pairs priced by the API that the catalog has no zones for. */
  newRegions: string[];
  unmatchedSkus: string[];
}

/** The catalog with prices from the SKUs; pure. */
export function refreshPricingCatalog(current: GcpPricingCatalog, skus: readonly BillingSku[], fetchedAt: Date): PricingRefreshReport {
  const { prices, unmatched } = parseGpuSkuPrices(skus);
  const byKey = new Map<string, number>();
  for (const price of prices) byKey.set(`${price.acceleratorType} ${price.region} ${price.spot ? 'spot' : 'on-demand'}`, price.microsPerGpuHour);
  const changed: string[] = [];
  const notFound: string[] = [];
  const entries = current.entries.map((entry) => {
    const base = `${entry.acceleratorType} ${entry.region}`;
    const onDemand = byKey.get(`${base} on-demand`);
    const spot = byKey.get(`${base} spot`);
    if (onDemand === undefined) notFound.push(`${base} on-demand`);
    else if (onDemand !== entry.onDemandMicrosPerGpuHour) changed.push(`${base} on-demand`);
    if (spot === undefined) notFound.push(`${base} spot`);
    else if (spot !== entry.spotMicrosPerGpuHour) changed.push(`${base} spot`);
    return {
      ...entry,
      onDemandMicrosPerGpuHour: onDemand ?? entry.onDemandMicrosPerGpuHour,
      spotMicrosPerGpuHour: spot ?? entry.spotMicrosPerGpuHour,
    };
  });
  const known = new Set(current.entries.map((entry) => `${entry.acceleratorType} ${entry.region}`));
  const newRegions = [...new Set(prices.map((price) => `${price.acceleratorType} ${price.region}`))].filter((key) => !known.has(key)).sort();
  const catalog = gcpPricingCatalogSchema.parse({
    source: `Cloud Billing Catalog API (${COMPUTE_ENGINE_BILLING_SERVICE}/skus), GPU SKUs only (host vCPU and memory not included); rows the API did not price keep their previous value`,
    fetchedAt: fetchedAt.toISOString().slice(0, 10),
    currency: 'USD',
    entries,
  });
  return { catalog, changed, notFound, newRegions, unmatchedSkus: unmatched };
}

export type FetchLike = (url: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** Every Compute Engine SKU, following page tokens. The key goes in the query string (the API's API-key form). */
export async function fetchComputeSkus(apiKey: string, fetchImpl: FetchLike = fetch, baseUrl = CLOUD_BILLING_BASE_URL): Promise<BillingSku[]> {
  const skus: BillingSku[] = [];
  let pageToken = '';
  for (let page = 0; page < 200; page += 1) {
    const url = new URL(`${baseUrl}/${COMPUTE_ENGINE_BILLING_SERVICE}/skus`);
    url.searchParams.set('key', apiKey);
    url.searchParams.set('pageSize', '5000');
    if (pageToken) url.searchParams.set('pageToken', pageToken);
    const response = await fetchImpl(url.toString());
    if (!response.ok) throw new Error(`Cloud Billing Catalog API answered HTTP ${response.status}`);
    const parsed = billingSkuPageSchema.parse(await response.json());
    skus.push(...parsed.skus);
    pageToken = parsed.nextPageToken ?? '';
    if (!pageToken) return skus;
  }
  throw new Error('Cloud Billing Catalog API: more than 200 pages of SKUs');
}

/** The data file beside this module's source (works from src/ under vitest and from dist/). */
export const DEFAULT_PRICING_FILE = fileURLToPath(new URL('../../src/gcp/gcp-pricing.data.json', import.meta.url));

function argValue(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

export async function refreshPricingCli(args: readonly string[], log: (line: string) => void = console.log): Promise<number> {
  const keyFile = argValue(args, '--api-key-file');
  const out = argValue(args, '--out') ?? DEFAULT_PRICING_FILE;
  const baseUrl = argValue(args, '--base-url') ?? CLOUD_BILLING_BASE_URL;
  if (!keyFile) {
    log('usage: refresh-pricing --api-key-file <file with a Cloud Billing API key> [--out <gcp-pricing.data.json>] [--base-url <Cloud Billing API>]');
    return 2;
  }
  const apiKey = (await readFile(keyFile, 'utf8')).trim();
  const current = gcpPricingCatalogSchema.parse(JSON.parse(await readFile(out, 'utf8')));
  const skus = await fetchComputeSkus(apiKey, fetch, baseUrl);
  const report = refreshPricingCatalog(current, skus, new Date());
  await writeFile(out, `${JSON.stringify(report.catalog, null, 2)}\n`);
  log(`wrote ${out}: ${report.changed.length} prices changed, ${report.notFound.length} not priced by the API (kept)`);
  for (const line of report.notFound) log(`  not priced: ${line}`);
  for (const line of report.newRegions) log(`  priced but no zones in the file (add them by hand): ${line}`);
  for (const line of report.unmatchedSkus) log(`  GPU SKU with no known accelerator type: ${line}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  refreshPricingCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`refresh-pricing failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
