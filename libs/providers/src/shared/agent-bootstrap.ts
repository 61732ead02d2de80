/**
 * How a cloud machine becomes an Anneal node: anneal-agent's own CLI, the same a community
 * provider runs by hand (`anneal-agent register --api … --token … --price … --region …`, then
 * `anneal-agent run`). The one-time join token the API minted for the attempt is what ties the new
 * node to it.
 */

/** Micro-dollars as the decimal US dollars `anneal-agent register --price` takes ('2.933908'). */
export function microsToUsd(micros: bigint): string {
  const whole = micros / 1_000_000n;
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** A region as `anneal-agent register --region` accepts it (letters, digits, '-'; lower-case). */
export function agentRegion(region: string): string {
  const cleaned = region
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return cleaned || 'unknown';
}

/** Where the agent keeps its credentials on a cloud machine. */
export const CLOUD_AGENT_HOME = '/var/lib/anneal-agent';

/**
 * Shell that registers with the join token from `$ANNEAL_JOIN_TOKEN` and runs the agent in the
 * foreground. The caller exports ANNEAL_API_URL, ANNEAL_JOIN_TOKEN, ANNEAL_PRICE_USD, ANNEAL_REGION.
 */
export const AGENT_REGISTER_AND_RUN =
  'anneal-agent register --api "$ANNEAL_API_URL" --token "$ANNEAL_JOIN_TOKEN" --price "$ANNEAL_PRICE_USD" --region "$ANNEAL_REGION" && unset ANNEAL_JOIN_TOKEN && anneal-agent run';
