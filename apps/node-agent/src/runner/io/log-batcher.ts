import type { RunnerEvent } from '../runner.js';

export type LogStream = 'stdout' | 'stderr' | 'agent';

/** Longest line sent (the event schema's limit); longer lines are cut with a marker. */
export const MAX_LOG_LINE_CHARS = 8192;

/**
 * Batches log lines into `log` events: one event per stream carries up to `maxLines` lines
 * (`line` is the first, `lines` all of them), flushed when full, after `maxDelayMs`, or on `flush()`.
 * Keeps a bounded copy of every line for the log archive uploaded at the end.
 */
export class LogBatcher {
  private readonly pending = new Map<LogStream, string[]>();
  private timer: NodeJS.Timeout | null = null;
  private archiveChars = 0;
  private archiveTruncated = false;
  private readonly archive: string[] = [];

  constructor(
    private readonly emit: (event: Extract<RunnerEvent, { type: 'log' }>) => void,
    private readonly options: { maxLines?: number; maxDelayMs?: number; maxArchiveChars?: number } = {},
  ) {}

  add(stream: LogStream, rawLine: string): void {
    const line = rawLine.length > MAX_LOG_LINE_CHARS ? `${rawLine.slice(0, MAX_LOG_LINE_CHARS - 12)} [truncated]` : rawLine;
    this.keep(stream, line);
    const lines = this.pending.get(stream) ?? [];
    lines.push(line);
    this.pending.set(stream, lines);
    if (lines.length >= (this.options.maxLines ?? 50)) this.flushStream(stream);
    else this.timer ??= setTimeout(() => this.flush(), this.options.maxDelayMs ?? 250);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const stream of [...this.pending.keys()]) this.flushStream(stream);
  }

  /** Every line so far as text (`<stream> <line>`), bounded; for the log upload. */
  archiveText(): string {
    return `${this.archive.join('\n')}${this.archiveTruncated ? '\n[log archive truncated]' : ''}\n`;
  }

  private flushStream(stream: LogStream): void {
    const lines = this.pending.get(stream);
    this.pending.delete(stream);
    if (!lines?.length) return;
    this.emit(lines.length === 1 ? { type: 'log', stream, line: lines[0]! } : { type: 'log', stream, line: lines[0]!, lines });
  }

  private keep(stream: LogStream, line: string): void {
    if (this.archiveTruncated) return;
    const entry = `${stream} ${line}`;
    if (this.archiveChars + entry.length > (this.options.maxArchiveChars ?? 16_000_000)) {
      this.archiveTruncated = true;
      return;
    }
    this.archiveChars += entry.length + 1;
    this.archive.push(entry);
  }
}
