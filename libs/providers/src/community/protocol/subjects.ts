/**
 * NATS subjects and JetStream streams of the community-node protocol.
 *
 * Every subject takes a prefix so tests (and staging tenants) isolate on one server: '' in
 * production, e.g. 'tabc123.' in a test. A non-empty prefix without a trailing '.' gets one, so
 * `heartbeatSubject('t1', 'n1')` is `t1.anneal.nodes.n1.heartbeat`.
 */

/** A token that is safe inside a subject and a stream/consumer name: no '.', '*', '>', whitespace. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export class InvalidSubjectTokenError extends Error {
  readonly code = 'invalid_subject_token';
  constructor(what: string, value: string) {
    super(`${what} '${value}' cannot be used in a NATS subject: use 1-64 letters, digits, '-' or '_'`);
    this.name = 'InvalidSubjectTokenError';
  }
}

function token(what: string, value: string): string {
  if (!TOKEN.test(value)) throw new InvalidSubjectTokenError(what, value);
  return value;
}

/** The prefix as it is put in front of 'anneal.': '' or ending in exactly one '.'. */
export function normalizeSubjectPrefix(prefix: string): string {
  if (prefix === '') return '';
  if (/[\s*>]/.test(prefix) || prefix.startsWith('.') || prefix.includes('..')) {
    throw new InvalidSubjectTokenError('subject prefix', prefix);
  }
  return prefix.endsWith('.') ? prefix : `${prefix}.`;
}

export function heartbeatSubject(prefix: string, nodeId: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.nodes.${token('node id', nodeId)}.heartbeat`;
}

export function assignSubject(prefix: string, nodeId: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.nodes.${token('node id', nodeId)}.assign`;
}

export function controlSubject(prefix: string, nodeId: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.nodes.${token('node id', nodeId)}.control`;
}

export function attemptEventsSubject(prefix: string, attemptId: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.attempts.${token('attempt id', attemptId)}.events`;
}

export function benchmarkSamplesSubject(prefix: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.benchmarks.samples`;
}

/** Wildcards the API subscribes to. */
export function allHeartbeatsSubject(prefix: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.nodes.*.heartbeat`;
}
export function allAssignSubject(prefix: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.nodes.*.assign`;
}
export function allAttemptEventsSubject(prefix: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.attempts.*.events`;
}

function tokenAfter(prefix: string, subject: string, head: string, tail: string): string | null {
  const start = `${normalizeSubjectPrefix(prefix)}${head}`;
  if (!subject.startsWith(start) || !subject.endsWith(tail)) return null;
  const middle = subject.slice(start.length, subject.length - tail.length);
  return TOKEN.test(middle) ? middle : null;
}

/** The node id of a `…anneal.nodes.<id>.<kind>` subject, or null when the subject is not one. */
export function nodeIdFromSubject(prefix: string, subject: string, kind: 'heartbeat' | 'assign' | 'control'): string | null {
  return tokenAfter(prefix, subject, 'anneal.nodes.', `.${kind}`);
}

/** The attempt id of a `…anneal.attempts.<id>.events` subject, or null. */
export function attemptIdFromSubject(prefix: string, subject: string): string | null {
  return tokenAfter(prefix, subject, 'anneal.attempts.', '.events');
}

/**
 * A JetStream stream as the protocol needs it, in plain values (map onto `@nats-io/jetstream`'s
 * StreamConfig: retention → RetentionPolicy, storage → StorageType, maxAgeMs → max_age in ns,
 * duplicateWindowMs → duplicate_window in ns).
 */
export interface ProtocolStreamSpec {
  name: string;
  subjects: string[];
  retention: 'workqueue' | 'limits';
  storage: 'file';
  maxAgeMs: number;
  duplicateWindowMs: number;
}

function streamName(prefix: string, base: string): string {
  const normalized = normalizeSubjectPrefix(prefix);
  if (normalized === '') return base;
  return `${normalized.slice(0, -1).replace(/[^A-Za-z0-9_-]/g, '_')}_${base}`;
}

/**
 * Assignments, one workqueue stream for every node: each node's durable consumer filters on its
 * own assign subject, and an acked assignment leaves the stream. Unclaimed assignments expire
 * after an hour (the scheduler re-matches the attempt long before that).
 */
export function assignStreamSpec(prefix: string): ProtocolStreamSpec {
  return {
    name: streamName(prefix, 'ANNEAL_ASSIGN'),
    subjects: [allAssignSubject(prefix)],
    retention: 'workqueue',
    storage: 'file',
    maxAgeMs: 60 * 60 * 1000,
    duplicateWindowMs: 2 * 60 * 1000,
  };
}

/**
 * Attempt events (accepted, started, step metrics, logs, validation, checkpoints, finished,
 * benchmark samples). Kept 7 days; the API's durable consumer stores what it needs. Agents
 * publish with a `Nats-Msg-Id` of `<attemptId>:<eventSeq>` so a retried publish is deduplicated.
 */
export function attemptEventsStreamSpec(prefix: string): ProtocolStreamSpec {
  return {
    name: streamName(prefix, 'ANNEAL_ATTEMPT_EVENTS'),
    subjects: [allAttemptEventsSubject(prefix)],
    retention: 'limits',
    storage: 'file',
    maxAgeMs: 7 * 24 * 60 * 60 * 1000,
    duplicateWindowMs: 2 * 60 * 1000,
  };
}

/** The durable consumer a node reads its assignments through (filter: its assign subject). */
export function assignConsumerName(nodeId: string): string {
  return `node-${token('node id', nodeId)}`;
}

/** The `Nats-Msg-Id` of an attempt event, for JetStream de-duplication. */
export function attemptEventMsgId(attemptId: string, eventSeq: number): string {
  return `${attemptId}:${eventSeq}`;
}
