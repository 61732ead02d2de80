import { describe, expect, it } from 'vitest';
import { ApiClient, memoryStore } from '../../../lib/api-client.js';
import type { Job, JobLiveMessage } from '../api/jobs.api.js';
import { backoffMs, followJobStream, type JobStreamState } from './job-stream.js';

type Call = { url: string; init: RequestInit };

const sse = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
const job = (status: string) => ({ id: 'j1', status }) as unknown as Job;

/** A response whose body is `chunks`, then the end (or, with `hold`, open until the request is aborted). */
function streamResponse(chunks: string[], init: RequestInit, hold = false): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      if (!hold) controller.close();
      else init.signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

function client(handler: (call: Call, index: number) => Response) {
  const calls: Call[] = [];
  const api = new ApiClient({
    storage: memoryStore(),
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const call = { url: String(input), init: init ?? {} };
      calls.push(call);
      return handler(call, calls.length - 1);
    }) as typeof fetch,
  });
  api.setTokens({ accessToken: 'session-token', refreshToken: 'refresh' });
  return { api, calls };
}

function recorder() {
  const states: JobStreamState[] = [];
  const opened: string[] = [];
  const messages: JobLiveMessage[] = [];
  return { states, opened, messages, handlers: { state: (s: JobStreamState) => states.push(s), opened: (j: Job) => opened.push(j.status), message: (m: JobLiveMessage) => messages.push(m) } };
}

describe('followJobStream', () => {
  it('sends the token in the Authorization header (never the URL), reconnects after a drop, and stops after the terminal status', async () => {
    const metric = { kind: 'metric', step: 4, loss: 1.5, stepTimeMs: 40, gpuUtilizationPct: null } as const;
    const { api, calls } = client((call, index) =>
      index === 0
        ? streamResponse([sse('job', job('running')), ': keep-alive\n\n', sse('metric', metric)], call.init) // then the server goes away
        : streamResponse([sse('job', job('running')), sse('logs', { kind: 'logs', lines: ['a', 'b'], stream: 'stdout' }), sse('event', { kind: 'event', event: { type: 'status', toStatus: 'succeeded' } })], call.init),
    );
    const seen = recorder();
    const delays: number[] = [];
    await followJobStream(api, 'j1', new AbortController().signal, seen.handlers, { retryDelayMs: (n) => (delays.push(n), 0) });

    expect(calls.map((c) => c.url)).toEqual(['/v1/jobs/j1/stream', '/v1/jobs/j1/stream']);
    for (const call of calls) {
      expect((call.init.headers as Record<string, string>).Authorization).toBe('Bearer session-token');
      expect((call.init.headers as Record<string, string>).Accept).toBe('text/event-stream');
    }
    expect(seen.states).toEqual(['connecting', 'live', 'reconnecting', 'live', 'ended']);
    expect(seen.opened).toEqual(['running', 'running']);
    expect(seen.messages.map((m) => m.kind)).toEqual(['metric', 'logs', 'event']);
    expect(delays).toEqual([1]);
  });

  it('backs off while the API cannot be reached, and a successful opening resets the count', async () => {
    const { api } = client((call, index) => {
      if (index < 3) throw new TypeError('Failed to fetch');
      return streamResponse([sse('job', job('canceled'))], call.init);
    });
    const seen = recorder();
    const delays: number[] = [];
    await followJobStream(api, 'j1', new AbortController().signal, seen.handlers, { retryDelayMs: (n) => (delays.push(n), 0) });
    expect(delays).toEqual([1, 2, 3]);
    expect(seen.states.at(-1)).toBe('ended');
    expect(seen.opened).toEqual(['canceled']);
  });

  it('a 404 (the job is gone or not this org’s) is final: no retry', async () => {
    const { api, calls } = client(() => new Response(JSON.stringify({ code: 'not_found', message: 'Job not found.', requestId: 'r' }), { status: 404, headers: { 'Content-Type': 'application/json' } }));
    const seen = recorder();
    await followJobStream(api, 'j1', new AbortController().signal, seen.handlers, { retryDelayMs: () => 0 });
    expect(calls).toHaveLength(1);
    expect(seen.states).toEqual(['connecting', 'unavailable']);
  });

  it('drops a connection that goes silent and opens another; aborting (the page closes) ends it', async () => {
    const page = new AbortController();
    const { api, calls } = client((call, index) => {
      if (index === 1) queueMicrotask(() => page.abort());
      return streamResponse([sse('job', job('running'))], call.init, true);
    });
    const seen = recorder();
    await followJobStream(api, 'j1', page.signal, seen.handlers, { retryDelayMs: () => 0, idleTimeoutMs: 20 });
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.init.signal?.aborted)).toBe(true);
    expect(seen.states.slice(0, 3)).toEqual(['connecting', 'live', 'reconnecting']);
    expect(seen.states).not.toContain('ended');
  });
});

describe('backoffMs', () => {
  it('doubles from about a second up to about thirty', () => {
    expect(backoffMs(1)).toBeGreaterThanOrEqual(800);
    expect(backoffMs(1)).toBeLessThanOrEqual(1200);
    expect(backoffMs(3)).toBeGreaterThanOrEqual(3200);
    expect(backoffMs(20)).toBeLessThanOrEqual(36_000);
    expect(backoffMs(20)).toBeGreaterThanOrEqual(24_000);
  });
});
