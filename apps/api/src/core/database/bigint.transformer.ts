import type { ValueTransformer } from 'typeorm';

/** `bigint` columns as JavaScript bigint (pg returns them as strings): money is never a float. */
export const bigintTransformer: ValueTransformer = {
  to: (value: bigint | null | undefined) => (value === null || value === undefined ? value : value.toString()),
  from: (value: string | null) => (value === null ? null : BigInt(value)),
};
