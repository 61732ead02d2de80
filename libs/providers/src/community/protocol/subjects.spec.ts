import { describe, expect, it } from 'vitest';
import {
  assignConsumerName,
  assignStreamSpec,
  assignSubject,
  attemptEventsStreamSpec,
  attemptEventsSubject,
  attemptIdFromSubject,
  controlSubject,
  heartbeatSubject,
  InvalidSubjectTokenError,
  nodeIdFromSubject,
} from './subjects.js';

describe('subjects', () => {
  it('builds production subjects with an empty prefix', () => {
    expect(heartbeatSubject('', 'n1')).toBe('anneal.nodes.n1.heartbeat');
    expect(assignSubject('', 'n1')).toBe('anneal.nodes.n1.assign');
    expect(controlSubject('', 'n1')).toBe('anneal.nodes.n1.control');
    expect(attemptEventsSubject('', 'a1')).toBe('anneal.attempts.a1.events');
  });

  it('puts a prefix in front, with or without its trailing dot', () => {
    expect(heartbeatSubject('tabc', 'n1')).toBe('tabc.anneal.nodes.n1.heartbeat');
    expect(heartbeatSubject('tabc.', 'n1')).toBe('tabc.anneal.nodes.n1.heartbeat');
  });

  it('refuses ids that would change the subject (wildcards, dots)', () => {
    for (const id of ['a.b', '*', '>', 'a b', '']) expect(() => heartbeatSubject('', id)).toThrow(InvalidSubjectTokenError);
  });

  it('reads node and attempt ids back from subjects', () => {
    expect(nodeIdFromSubject('tabc', 'tabc.anneal.nodes.n-1.heartbeat', 'heartbeat')).toBe('n-1');
    expect(nodeIdFromSubject('tabc', 'anneal.nodes.n-1.heartbeat', 'heartbeat')).toBeNull();
    expect(nodeIdFromSubject('', 'anneal.nodes.a.b.heartbeat', 'heartbeat')).toBeNull();
    expect(attemptIdFromSubject('', 'anneal.attempts.x1.events')).toBe('x1');
  });

  it('names prefixed streams apart and covers every node / attempt', () => {
    expect(assignStreamSpec('')).toMatchObject({ name: 'ANNEAL_ASSIGN', subjects: ['anneal.nodes.*.assign'], retention: 'workqueue' });
    expect(assignStreamSpec('tabc')).toMatchObject({ name: 'tabc_ANNEAL_ASSIGN', subjects: ['tabc.anneal.nodes.*.assign'] });
    expect(attemptEventsStreamSpec('tabc')).toMatchObject({ name: 'tabc_ANNEAL_ATTEMPT_EVENTS', subjects: ['tabc.anneal.attempts.*.events'] });
    expect(assignConsumerName('n1')).toBe('node-n1');
  });
});
