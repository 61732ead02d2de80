import { assignStreamSpec, attemptEventsStreamSpec, toStreamConfig } from '@anneal/providers';
import type { StreamDefinition } from './nats.service.js';

/** Stream names cannot contain dots; subjects can. Both carry the deployment's prefix. */
export function apiStreams(prefix: string): StreamDefinition[] {
  const name = (base: string) => `${prefix ? `${prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_` : ''}${base}`;
  const subject = (base: string) => `${prefix ? `${prefix}.` : ''}${base}`;
  return [{ name: name('ANNEAL_EVENTS'), subjects: [subject('anneal.events.>')], max_age: 7 * 24 * 3600 * 1e9 }, toStreamConfig(assignStreamSpec(prefix)), toStreamConfig(attemptEventsStreamSpec(prefix))];
}
