import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunnerEvent } from '../runner.js';
import { LogBatcher, MAX_LOG_LINE_CHARS } from './log-batcher.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('LogBatcher', () => {
  it('sends full batches at once and the rest on flush, per stream, in order', () => {
    const events: RunnerEvent[] = [];
    const batcher = new LogBatcher((event) => events.push(event), { maxLines: 3 });
    for (const line of ['a', 'b', 'c', 'd']) batcher.add('stdout', line);
    batcher.add('stderr', 'oops');
    expect(events).toEqual([{ type: 'log', stream: 'stdout', line: 'a', lines: ['a', 'b', 'c'] }]);
    batcher.flush();
    expect(events.slice(1)).toEqual([
      { type: 'log', stream: 'stdout', line: 'd' },
      { type: 'log', stream: 'stderr', line: 'oops' },
    ]);
  });

  it('flushes by itself after the delay', () => {
    vi.useFakeTimers();
    const events: RunnerEvent[] = [];
    const batcher = new LogBatcher((event) => events.push(event), { maxDelayMs: 100 });
    batcher.add('agent', 'hello');
    expect(events).toHaveLength(0);
    vi.advanceTimersByTime(100);
    expect(events).toEqual([{ type: 'log', stream: 'agent', line: 'hello' }]);
  });

  it('cuts long lines to the schema limit and keeps a bounded archive', () => {
    const events: RunnerEvent[] = [];
    const batcher = new LogBatcher((event) => events.push(event), { maxArchiveChars: 40 });
    batcher.add('stdout', 'x'.repeat(MAX_LOG_LINE_CHARS + 100));
    batcher.flush();
    const line = (events[0] as Extract<RunnerEvent, { type: 'log' }>).line;
    expect(line.length).toBeLessThanOrEqual(MAX_LOG_LINE_CHARS);
    expect(line.endsWith('[truncated]')).toBe(true);
    const small = new LogBatcher(() => {}, { maxArchiveChars: 30 });
    small.add('stdout', 'first line');
    small.add('stdout', 'a second line that does not fit');
    expect(small.archiveText()).toBe('stdout first line\n[log archive truncated]\n');
  });
});
