import { RetentionPolicy } from '@nats-io/jetstream';
import { assignStreamSpec, attemptEventsStreamSpec, benchmarkSamplesSubject, toStreamConfig } from '@anneal/providers';
import type { StreamDefinition } from './nats.service.js';

/** Stream names cannot contain dots; subjects can. Both carry the deployment's prefix. */
export function apiStreams(prefix: string): StreamDefinition[] {
  const name = (base: string) => `${prefix ? `${prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_` : ''}${base}`;
  const subject = (base: string) => `${prefix ? `${prefix}.` : ''}${base}`;
  return [{ name: name('ANNEAL_EVENTS'), subjects: [subject('anneal.events.>')], max_age: 7 * 24 * 3600 * 1e9 }, benchmarkSamplesStream(prefix), toStreamConfig(assignStreamSpec(prefix)), toStreamConfig(attemptEventsStreamSpec(prefix))];
}

/** Stream of `<prefix>.anneal.benchmarks.samples` (benchmarks module). */
export function benchmarkSamplesStreamName(prefix: string): string {
  return `${prefix ? `${prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_` : ''}ANNEAL_BENCHMARK_SAMPLES`;
}

/**
 * Anonymized benchmark samples of finished attempts: a work queue read by one durable consumer
 * shared by every replica, so each sample is merged once; publishers set `msgID` to the sample id.
 */
function benchmarkSamplesStream(prefix: string): StreamDefinition {
  return {
    name: benchmarkSamplesStreamName(prefix),
    subjects: [benchmarkSamplesSubject(prefix)],
    retention: RetentionPolicy.Workqueue,
    max_age: 7 * 24 * 3600 * 1e9,
    duplicate_window: 10 * 60 * 1e9,
  };
}
