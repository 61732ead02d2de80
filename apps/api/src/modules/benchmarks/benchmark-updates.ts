/**
 * Broadcast to every replica after a benchmark write commits (core NATS, not durable): each
 * replica merges the change into its in-memory snapshot. A replica that misses one (it was
 * restarting) has it from the database when it loads.
 */
import { isValidMoments, isValidStepTimeAggregate, type Moments, type StepTimeAggregate } from '@anneal/benchmarks';
import { normalizeSubjectPrefix } from '@anneal/providers';

export type BenchmarkUpdate =
  /** One observed sample merged into `key`; `revision` is the row's revision after the merge. */
  | { schemaVersion: 1; type: 'step_time'; key: string; revision: number; delta: StepTimeAggregate }
  | { schemaVersion: 1; type: 'provisioning'; providerKind: string; delta: Moments }
  /** The public prior was replaced: reload everything from the database. */
  | { schemaVersion: 1; type: 'reload' };

export function benchmarkUpdatesSubject(prefix: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.benchmarks.updated`;
}

export function parseBenchmarkUpdate(input: unknown): BenchmarkUpdate | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const m = input as Record<string, unknown>;
  if (m.schemaVersion !== 1) return undefined;
  if (m.type === 'step_time' && typeof m.key === 'string' && typeof m.revision === 'number' && isValidStepTimeAggregate(m.delta)) {
    return { schemaVersion: 1, type: 'step_time', key: m.key, revision: m.revision, delta: m.delta };
  }
  if (m.type === 'provisioning' && typeof m.providerKind === 'string' && isValidMoments(m.delta)) {
    return { schemaVersion: 1, type: 'provisioning', providerKind: m.providerKind, delta: m.delta };
  }
  if (m.type === 'reload') return { schemaVersion: 1, type: 'reload' };
  return undefined;
}
