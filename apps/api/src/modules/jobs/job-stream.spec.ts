import type { MessageEvent } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { jobStream, type JobSubscription } from './job-stream.js';

/** A subscription fed by the test: `publish` queues a message, `close` ends the iteration. */
function fakeSubscription() {
  const queued: { data: Uint8Array }[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  const state = { subscribed: false, unsubscribed: false };
  const subscription: JobSubscription = {
    messages: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = queued.shift();
          if (next) yield next;
          else if (closed) return;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    },
    unsubscribe: () => {
      state.unsubscribed = true;
      close();
    },
  };
  const close = () => {
    closed = true;
    wake?.();
  };
  return {
    state,
    subscribe: () => {
      state.subscribed = true;
      return subscription;
    },
    publishRaw: (text: string) => {
      queued.push({ data: new TextEncoder().encode(text) });
      wake?.();
    },
    publish: (payload: unknown) => {
      queued.push({ data: new TextEncoder().encode(JSON.stringify(payload)) });
      wake?.();
    },
    close,
  };
}

/** Collects what the stream emits; `until` resolves once a matching message has arrived. */
function collect(observable: ReturnType<typeof jobStream>) {
  const messages: MessageEvent[] = [];
  const waiters: { test: (m: MessageEvent) => boolean; resolve: () => void }[] = [];
  let resolveDone!: (outcome: 'complete' | unknown) => void;
  const done = new Promise<'complete' | unknown>((resolve) => (resolveDone = resolve));
  const subscription = observable.subscribe({
    next: (message) => {
      messages.push(message);
      for (const waiter of waiters.filter((w) => w.test(message))) waiter.resolve();
    },
    complete: () => resolveDone('complete'),
    error: (error: unknown) => resolveDone(error),
  });
  const until = (test: (m: MessageEvent) => boolean) =>
    messages.some(test) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test, resolve }));
  return { messages, done, until, subscription };
}

const metric = { kind: 'metric', step: 3, loss: 1.25, stepTimeMs: 40, gpuUtilizationPct: null };
const status = (toStatus: string) => ({ kind: 'event', event: { type: 'status', fromStatus: 'running', toStatus, message: 'x' } });

describe('jobStream', () => {
  it('subscribes before reading the snapshot, so a message published meanwhile follows the snapshot', async () => {
    const bus = fakeSubscription();
    let releaseSnapshot!: () => void;
    const stream = collect(
      jobStream({
        subscribe: bus.subscribe,
        snapshot: async () => {
          expect(bus.state.subscribed).toBe(true);
          bus.publish(metric); // lands while the snapshot is being read
          await new Promise<void>((resolve) => (releaseSnapshot = resolve));
          return { status: 'running' };
        },
      }),
    );
    await expect.poll(() => typeof releaseSnapshot).toBe('function');
    releaseSnapshot();
    await stream.until((m) => m.type === 'metric');
    expect(stream.messages.map((m) => m.type)).toEqual(['job', 'metric']);
    expect(stream.messages[1]!.data).toEqual(metric);
    stream.subscription.unsubscribe();
    expect(bus.state.unsubscribed).toBe(true);
  });

  it('forwards events, metrics and logs by kind, skips what is not JSON, and completes after a terminal status', async () => {
    const bus = fakeSubscription();
    const stream = collect(jobStream({ subscribe: bus.subscribe, snapshot: async () => ({ status: 'running' }) }));
    bus.publish(status('uploading'));
    bus.publishRaw('not json');
    bus.publish(metric);
    bus.publish({ kind: 'logs', lines: ['step 3 loss 1.25'], stream: 'stdout' });
    bus.publish(status('succeeded'));
    bus.publish(metric); // after the end: not sent
    expect(await stream.done).toBe('complete');
    expect(stream.messages.map((m) => m.type)).toEqual(['job', 'event', 'metric', 'logs', 'event']);
    expect(bus.state.unsubscribed).toBe(true);
  });

  it('a job that has already ended gets its snapshot and the end, nothing else', async () => {
    const bus = fakeSubscription();
    bus.publish(metric);
    const stream = collect(jobStream({ subscribe: bus.subscribe, snapshot: async () => ({ status: 'canceled' }) }));
    expect(await stream.done).toBe('complete');
    expect(stream.messages.map((m) => m.type)).toEqual(['job']);
    expect(bus.state.unsubscribed).toBe(true);
  });

  it('a note or a non-terminal status keeps it open; the bus closing completes it (the client reconnects)', async () => {
    const bus = fakeSubscription();
    const stream = collect(jobStream({ subscribe: bus.subscribe, snapshot: async () => ({ status: 'queued' }) }));
    bus.publish({ kind: 'event', event: { type: 'cancel_requested', fromStatus: 'running', toStatus: 'running' } });
    bus.publish(status('queued'));
    await stream.until((m) => m.type === 'event' && (m.data as { event: { type: string } }).event.type === 'status');
    bus.close();
    expect(await stream.done).toBe('complete');
    expect(stream.messages.map((m) => m.type)).toEqual(['job', 'event', 'event']);
  });

  it('writes a heartbeat comment while idle', async () => {
    const bus = fakeSubscription();
    const stream = collect(jobStream({ subscribe: bus.subscribe, snapshot: async () => ({ status: 'running' }), heartbeatMs: 5 }));
    await stream.until((m) => m.comment === 'keep-alive');
    const heartbeat = stream.messages.find((m) => m.comment !== undefined)!;
    expect(heartbeat).toEqual({ comment: 'keep-alive' });
    stream.subscription.unsubscribe();
  });

  it('a snapshot that fails ends the stream with that error (before any event, so the error filter answers)', async () => {
    const bus = fakeSubscription();
    const failure = new Error('database unreachable');
    const stream = collect(jobStream({ subscribe: bus.subscribe, snapshot: () => Promise.reject(failure) }));
    expect(await stream.done).toBe(failure);
    expect(stream.messages).toEqual([]);
    expect(bus.state.unsubscribed).toBe(true);
  });
});
