import { existsSync, readFileSync } from 'node:fs';
import { writePrivateFile } from './private-file.js';

/** Keeps the last heartbeat seq so it never goes backwards across restarts. */
export interface SeqStore {
  load(): number;
  save(seq: number): void;
}

export function memorySeqStore(initial = 0): SeqStore & { value: () => number } {
  let last = initial;
  return { load: () => last, save: (seq) => void (last = seq), value: () => last };
}

/** state.json in the agent home: `{ "lastHeartbeatSeq": N }`. */
export function fileSeqStore(path: string): SeqStore {
  return {
    load() {
      if (!existsSync(path)) return 0;
      try {
        const value = (JSON.parse(readFileSync(path, 'utf8')) as { lastHeartbeatSeq?: unknown }).lastHeartbeatSeq;
        return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
      } catch {
        return 0;
      }
    },
    save(seq) {
      writePrivateFile(path, `${JSON.stringify({ lastHeartbeatSeq: seq })}\n`);
    },
  };
}

/**
 * Heartbeat sequence numbers: starts above both the persisted value and the boot time in seconds
 * (so even a lost state file cannot make seq go backwards unless the clock does), then +1 each.
 */
export class HeartbeatSequence {
  private last: number;
  constructor(
    private readonly store: SeqStore,
    nowMs: number,
  ) {
    this.last = Math.max(store.load(), Math.floor(nowMs / 1000));
  }
  next(): number {
    this.last += 1;
    this.store.save(this.last);
    return this.last;
  }
  current(): number {
    return this.last;
  }
}
