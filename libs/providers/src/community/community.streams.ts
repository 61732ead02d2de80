import { RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { ProtocolStreamSpec } from './protocol/index.js';

/** A protocol stream spec as `@nats-io/jetstream`'s StreamConfig (for `jsm.streams.add`). */
export function toStreamConfig(spec: ProtocolStreamSpec): Pick<StreamConfig, 'name' | 'subjects'> & Partial<StreamConfig> {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: spec.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(spec.maxAgeMs),
    duplicate_window: nanos(spec.duplicateWindowMs),
  };
}
