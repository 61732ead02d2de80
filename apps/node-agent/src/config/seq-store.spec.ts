import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSeqStore, HeartbeatSequence, memorySeqStore } from './seq-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('HeartbeatSequence', () => {
  it('counts up from above the boot time in seconds', () => {
    const sequence = new HeartbeatSequence(memorySeqStore(), 1_700_000_000_500);
    expect([sequence.next(), sequence.next()]).toEqual([1_700_000_001, 1_700_000_002]);
  });

  it('never goes backwards across restarts, even faster than one per second', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anneal-seq-'));
    dirs.push(dir);
    const path = join(dir, 'state.json');
    const first = new HeartbeatSequence(fileSeqStore(path), 1_000_000);
    let last = 0;
    for (let i = 0; i < 50; i += 1) last = first.next();
    // Restarted one second later: persisted 1050 beats the clock's 1001.
    const second = new HeartbeatSequence(fileSeqStore(path), 1_001_000);
    expect(second.next()).toBe(last + 1);
  });

  it('falls back to the clock when the state file is unreadable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anneal-seq-'));
    dirs.push(dir);
    const path = join(dir, 'state.json');
    writeFileSync(path, '{oops');
    expect(new HeartbeatSequence(fileSeqStore(path), 5_000).next()).toBe(6);
  });
});
