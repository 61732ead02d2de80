/** The part of `@anneal/benchmarks`' lookupGpu the agent relies on (injectable in tests). */
export type GpuLookupFn = (
  name: string,
) => { kind: 'known'; gpu: { id: string; name: string; vramGb: number; aliases: readonly string[] } } | { kind: 'unknown'; name: string };
