import { describe, expect, it } from 'vitest';
import { createLogger, redact } from './logger.js';

describe('logger', () => {
  it('never writes secrets: seeds, tokens, presigned URLs', () => {
    const lines: string[] = [];
    const logger = createLogger((line) => lines.push(line), 'debug', () => new Date('2026-11-22T07:00:00Z'));
    logger.info('joined', {
      nodeId: 'n1',
      nkeySeed: 'SUAAAA-secret-seed',
      nodeToken: 'node-token-secret',
      assignment: { attemptToken: 'attempt-secret', dataset: { getUrl: 'http://s3/x?X-Amz-Signature=sig-secret' } },
    });
    expect(lines).toHaveLength(1);
    for (const secret of ['secret-seed', 'node-token-secret', 'attempt-secret', 'sig-secret']) expect(lines[0]).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', msg: 'joined', nodeId: 'n1', nkeySeed: '[redacted]' });
  });

  it('filters by level and writes error messages', () => {
    const lines: string[] = [];
    const logger = createLogger((line) => lines.push(line), 'warn');
    logger.info('hidden');
    logger.warn('shown', { error: new Error('boom') });
    expect(lines.map((line) => JSON.parse(line) as { msg: string; error: string })).toEqual([expect.objectContaining({ msg: 'shown', error: 'boom' })]);
  });

  it('redacts at depth, arrays included', () => {
    expect(redact([{ token: 'x', ok: 1 }])).toEqual([{ token: '[redacted]', ok: 1 }]);
  });
});
