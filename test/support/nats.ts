import { randomBytes } from 'node:crypto';

/** The NATS (JetStream) server of this test run. */
export function natsTestUrl(): string {
  return process.env.ANNEAL_TEST_NATS_URL ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
}

/**
 * A prefix unique to this test, for NATS subjects and stream names, so parallel runs on one server
 * never see each other's messages. Letters and digits only (valid in subjects and stream names).
 */
export function uniquePrefix(label = 't'): string {
  return `t${label.replace(/[^a-z0-9]/gi, '')}${randomBytes(5).toString('hex')}`;
}
