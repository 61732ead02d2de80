import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { json, renderWithApi } from '../../../test-utils.js';
import { JobDetailPage } from './job-detail-page.js';

afterEach(cleanup);

const jobId = '0193a0c8-0000-7c4e-9d41-3f2b8c1d5e6f';
const job = {
  id: jobId,
  name: 'support bot',
  status: 'running',
  waitingBecause: null,
  recipe: { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora' },
  datasetId: 'd',
  resources: { gpuCount: 1 },
  providerAllowlist: null,
  maxPriceMicrosPerGpuHour: null,
  budgetCapMicros: '5000000',
  holdMicros: '5000000',
  steps: 100,
  estimate: null,
  actual: { runtimeSeconds: null, costMicros: '0' },
  costSoFarMicros: '1000',
  cancelRequested: false,
  finalMessage: null,
  attempts: [],
  createdAt: '2026-11-22T08:00:00Z',
  startedAt: '2026-11-22T08:01:00Z',
  finishedAt: null,
};

const sse = (type: string, data: unknown) => new TextEncoder().encode(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);

/** A stream response the test writes to and closes. */
function controlledStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return { response: new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } }), send: (type: string, data: unknown) => controller.enqueue(sse(type, data)), close: () => controller.close() };
}

describe('JobDetailPage', () => {
  it('reads metrics and logs once per connection, appends streamed steps and lines, and shows Live / Reconnecting…', async () => {
    const streams = [controlledStream(), controlledStream()];
    let opened = 0;
    const { requests } = renderWithApi(<JobDetailPage jobId={jobId} />, (url) => {
      const path = new URL(url, 'http://x').pathname;
      if (path === `/v1/jobs/${jobId}`) return json(200, job);
      if (path.endsWith('/metrics')) return json(200, { points: [{ step: 1, at: '2026-11-22T08:01:01Z', loss: 3.5, stepTimeMs: 40, gpuUtilizationPct: null }] });
      if (path.endsWith('/logs')) return json(200, { lines: [{ seq: 1, at: '2026-11-22T08:01:01Z', stream: 'stdout', line: 'synthetic trainer: started' }], nextAfterSeq: 1 });
      if (path.endsWith('/events')) return json(200, []);
      if (path.endsWith('/stream')) return streams[opened++]!.response;
      return undefined;
    });
    const reads = (suffix: string) => requests.filter((r) => new URL(r.url, 'http://x').pathname === `/v1/jobs/${jobId}${suffix}`).length;

    await screen.findByText('Connecting…');
    streams[0]!.send('job', job);
    await screen.findByText('Live');
    await screen.findByText(/Loss at step 1: 3\.5000/);
    streams[0]!.send('metric', { kind: 'metric', step: 2, loss: 3.25, stepTimeMs: 41, gpuUtilizationPct: null });
    streams[0]!.send('logs', { kind: 'logs', lines: ['step 2/100 loss 3.2500'], stream: 'stdout' });
    await screen.findByText(/Loss at step 2: 3\.2500/);
    expect((await screen.findByLabelText('Job log')).textContent).toMatch(/synthetic trainer: started\n.*step 2\/100 loss 3\.2500$/);
    expect([reads('/metrics'), reads('/logs'), reads('/events'), reads('/stream')]).toEqual([1, 1, 1, 1]);

    // The connection drops: the page says so, reconnects, and reads what it may have missed once.
    streams[0]!.close();
    await screen.findByText('Reconnecting…');
    streams[1]!.send('job', job);
    await screen.findByText('Live', {}, { timeout: 5_000 });
    await expect.poll(() => [reads('/metrics'), reads('/logs'), reads('/events'), reads('/stream')]).toEqual([2, 2, 2, 2]);
  });

  it('a job that has ended opens no stream and shows no live badge; it reads each detail once', async () => {
    const ended = { ...job, status: 'failed', finishedAt: '2026-11-22T09:00:00Z', finalMessage: 'The trainer exited with an error.' };
    const { requests } = renderWithApi(<JobDetailPage jobId={jobId} />, (url) => {
      const path = new URL(url, 'http://x').pathname;
      if (path === `/v1/jobs/${jobId}`) return json(200, ended);
      if (path.endsWith('/metrics')) return json(200, { points: [] });
      if (path.endsWith('/logs')) return json(200, { lines: [], nextAfterSeq: 0 });
      if (path.endsWith('/events')) return json(200, []);
      return undefined;
    });
    await screen.findByText('The trainer exited with an error.');
    await screen.findByText('No log lines yet.');
    expect(screen.queryByTestId('stream-state')).toBeNull();
    const paths = requests.map((r) => new URL(r.url, 'http://x').pathname.replace(`/v1/jobs/${jobId}`, ''));
    expect(paths.sort()).toEqual(['', '/events', '/logs', '/metrics']);
  });
});
