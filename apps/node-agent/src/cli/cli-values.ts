import { AgentError } from '../agent.errors.js';

/** Highest accepted price, a sanity bound against typos (USD per GPU-hour). */
export const MAX_PRICE_USD_PER_GPU_HOUR = 1000;

/**
 * '0.45' → 450000n micro-dollars. Exact decimal arithmetic (no floats); at most 6 decimals;
 * more than 0 and at most {@link MAX_PRICE_USD_PER_GPU_HOUR}.
 */
export function parsePriceUsd(input: string): bigint {
  const text = input.trim().replace(/^\$/, '');
  const match = /^(\d{1,7})(?:\.(\d{1,6}))?$/.exec(text);
  if (!match) {
    throw new AgentError('invalid_price', `--price must be US dollars per GPU-hour, like 0.45 (at most 6 decimals), got '${input}'`);
  }
  const micros = BigInt(match[1]!) * 1_000_000n + BigInt((match[2] ?? '').padEnd(6, '0') || '0');
  if (micros <= 0n) throw new AgentError('invalid_price', `--price must be more than 0, got '${input}'`);
  if (micros > BigInt(MAX_PRICE_USD_PER_GPU_HOUR) * 1_000_000n) {
    throw new AgentError('invalid_price', `--price must be at most ${MAX_PRICE_USD_PER_GPU_HOUR} USD per GPU-hour, got '${input}'`);
  }
  return micros;
}

export function formatMicrosUsd(micros: bigint): string {
  const whole = micros / 1_000_000n;
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction.length < 2 ? fraction.padEnd(2, '0') : fraction}` : `${whole}.00`;
}

export function parseApiUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new AgentError('invalid_api_url', `--api must be the URL of the Anneal API, like https://api.anneal.dev, got '${input}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AgentError('invalid_api_url', `--api must be an http(s) URL, got '${input}'`);
  }
  return url.toString().replace(/\/+$/, '');
}

export function parseRegion(input: string): string {
  const text = input.trim();
  if (!/^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]?$/i.test(text)) {
    throw new AgentError('invalid_region', `--region must be letters, digits and '-' (like eu-west or us-east-1), got '${input}'`);
  }
  return text.toLowerCase();
}

export function parsePositiveInt(flag: string, input: string, min: number, max: number): number {
  const value = Number(input);
  if (!/^\d+$/.test(input.trim()) || value < min || value > max) {
    throw new AgentError('invalid_arguments', `${flag} must be a whole number between ${min} and ${max}, got '${input}'`);
  }
  return value;
}
