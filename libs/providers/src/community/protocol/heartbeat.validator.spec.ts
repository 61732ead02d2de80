import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { heartbeatSchema, type Heartbeat } from './heartbeat.schema.js';
import { validateHeartbeat } from './heartbeat.validator.js';
import { parseMessage } from './parse.js';
import { heartbeatFixture } from './testing/protocol-fixtures.js';

/** The outcome as a comparable value: the code and the set of wrong paths. */
function outcome(result: ReturnType<typeof validateHeartbeat>): { code: string; paths: string[] } {
  if (result.ok) return { code: 'ok', paths: [] };
  return { code: result.error.code, paths: [...new Set(result.error.issues.map((issue) => issue.slice(0, issue.indexOf(': '))))].sort() };
}

const reference = (input: unknown) => outcome(parseMessage(heartbeatSchema, input));
const fast = (input: unknown) => outcome(validateHeartbeat(input));

const gpu = heartbeatFixture().gpus[0]!;
const running = { attemptId: 'a-1', jobId: 'j_1', phase: 'running', startedAt: '2026-11-22T07:30:00.5Z', step: 3 };

/** Values that sit on or just past every rule of the schema. */
const tricky: unknown[] = [
  null, true, false, 0, -0, 1, -1, 1.5, 64, 65, 100, 100.5, -50, -50.5, 200, 200.5, 5000, 5001, 2 ** 53, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY,
  '', 'a', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(200), 'x'.repeat(201), 'node.1', 'node 1', 'ünïcode',
  '2026-11-22T07:30:00Z', '2026-11-22T07:30:00.123456789Z', '2024-02-29T23:59:59Z', '2026-02-29T00:00:00Z', '2026-11-22T07:30:00+00:00', '2026-11-22T24:00:00Z', '2026-11-22',
  'heartbeat', 'active', 'draining', 'offline', 'online', 'accepted', 'running', 'stopping',
  [], {}, [gpu], [gpu, { ...gpu, index: 1 }], Array.from({ length: 65 }, (_, index) => ({ ...gpu, index })), running, { ...running, extra: 1 }, { ...gpu, ip: 'x' },
];

/** Every place a value can go: each field, a field of the first GPU and of the running attempt, and new keys. */
const paths: string[][] = [
  ...Object.keys(heartbeatSchema.shape).map((key) => [key]),
  ...Object.keys(gpu).map((key) => ['gpus', '0', key]),
  ...Object.keys(running).map((key) => ['runningAttempt', key]),
  ['gpus', '0'],
  ['gpus', '1'],
  ['extra'],
  ['gpus', '0', 'extra'],
  ['runningAttempt', 'extra'],
];

function mutate(base: Heartbeat, path: string[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(base) as unknown as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = target[key];
    if (typeof next !== 'object' || next === null) return copy;
    target = next as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (remove) delete target[last];
  else target[last] = value;
  return copy;
}

describe('validateHeartbeat (the fast path of parseHeartbeat)', () => {
  it('accepts what the schema accepts and names the wrong field', () => {
    for (const valid of [heartbeatFixture(), heartbeatFixture({ gpus: [], runningAttempt: running as Heartbeat['runningAttempt'] }), heartbeatFixture({ state: 'offline', uptimeS: 0 })]) {
      expect(validateHeartbeat(valid)).toEqual({ ok: true, value: valid });
    }
    const bad = validateHeartbeat(heartbeatFixture({ gpus: [{ ...gpu, utilizationPct: 140 }] }));
    expect(!bad.ok && bad.error.code).toBe('invalid_payload');
    expect(!bad.ok && bad.error.issues).toEqual(['gpus.0.utilizationPct: expected a number <= 100']);
    const v2 = validateHeartbeat({ ...heartbeatFixture(), schemaVersion: 2 });
    expect(!v2.ok && v2.error.code).toBe('unsupported_schema_version');
    const extra = validateHeartbeat({ ...heartbeatFixture(), ip: '10.0.0.1' });
    expect(!extra.ok && extra.error.issues).toEqual(['(root): unrecognized key "ip"']);
  });

  it('agrees with the zod schema on every single-field change (each field × each edge value, and removal)', () => {
    const bases = [heartbeatFixture(), heartbeatFixture({ runningAttempt: running as Heartbeat['runningAttempt'] })];
    let compared = 0;
    for (const base of bases) {
      for (const path of paths) {
        for (const value of tricky) {
          const input = mutate(base, path, value, false);
          expect(fast(input), `${path.join('.')} = ${JSON.stringify(value)?.slice(0, 60)}`).toEqual(reference(input));
          compared += 1;
        }
        const removed = mutate(base, path, undefined, true);
        expect(fast(removed), `without ${path.join('.')}`).toEqual(reference(removed));
      }
    }
    expect(compared).toBeGreaterThan(2_000);
  });

  it('agrees with the zod schema on random combinations of changes (property)', () => {
    const change = fc.record({ path: fc.constantFrom(...paths), value: fc.oneof(fc.constantFrom(...tricky), fc.jsonValue({ maxDepth: 2 })), remove: fc.boolean() });
    fc.assert(
      fc.property(fc.boolean(), fc.array(change, { minLength: 1, maxLength: 4 }), (withAttempt, changes) => {
        let input = heartbeatFixture(withAttempt ? { runningAttempt: running as Heartbeat['runningAttempt'] } : {}) as unknown;
        for (const { path, value, remove } of changes) input = mutate(input as Heartbeat, path, value, remove);
        expect(fast(input)).toEqual(reference(input));
      }),
      { numRuns: 2_000 },
    );
  });

  it('reports only the length of an oversized GPU list, even when its items are invalid too, as the schema does', () => {
    const base = heartbeatFixture();
    const gpus = Array.from({ length: 65 }, (_, index) => ({ ...base.gpus[0]!, index }));
    const input = { ...base, gpus: [{}, ...gpus.slice(1)] };
    expect(fast(input)).toEqual(reference(input));
    expect(fast(input)).toMatchObject({ paths: ['gpus'] });
  });

  it('refuses what is not an object, as the schema does', () => {
    for (const input of [null, [], 'heartbeat', 1, undefined]) expect(fast(input)).toEqual(reference(input));
  });
});
