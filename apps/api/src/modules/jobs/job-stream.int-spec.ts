import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsService } from '../../core/nats/nats.service.js';
import { OutboxService } from '../../core/outbox/outbox.service.js';
import { readyDataset, topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { jobEventsSubject } from './jobs.service.js';

const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 512, batchSize: 4, steps: 100 };

interface StreamedEvent {
  type: string;
  data: any;
}

/**
 * `GET /v1/jobs/:id/stream` read as a client reads it: the raw text split into events on blank
 * lines (the framing Nest writes, `event:`/`id:`/`data:` lines; comments counted apart).
 */
async function openStream(baseUrl: string, jobId: string, token: string) {
  const response = await fetch(`${baseUrl}/v1/jobs/${jobId}/stream`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
  const events: StreamedEvent[] = [];
  const waiters: { test: (e: StreamedEvent) => boolean; resolve: () => void }[] = [];
  let comments = 0;
  const ended = (async () => {
    if (!response.ok || !response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const lines = block.split('\n');
        if (lines.every((line) => line.startsWith(':'))) {
          comments += 1;
          continue;
        }
        const type = lines.find((line) => line.startsWith('event: '))?.slice(7) ?? 'message';
        const data = lines.filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
        const event = { type, data: data ? JSON.parse(data) : null };
        events.push(event);
        for (const waiter of waiters.filter((w) => w.test(event))) waiter.resolve();
      }
    }
  })();
  const next = (test: (e: StreamedEvent) => boolean) => {
    const found = events.find(test);
    return found ? Promise.resolve(found) : new Promise<StreamedEvent>((resolve) => waiters.push({ test, resolve: () => resolve(events.find(test)!) }));
  };
  return { response, events, next, ended, comments: () => comments };
}

describe('GET /v1/jobs/:id/stream (real Postgres, NATS)', () => {
  let t: TestApp;
  let customer: Awaited<ReturnType<typeof signUp>>;
  let datasetId: string;

  beforeAll(async () => {
    t = await startTestApp({ s3: true });
    customer = await signUp(t.http);
    datasetId = (await readyDataset(t.http, customer.accessToken)).id;
    await topUp(t.http, customer.accessToken, '20.00');
  });

  afterAll(() => t?.close());

  const submitJob = async () => {
    const submitted = await t.http.post('/v1/jobs', { recipe, datasetId, resources: { gpuCount: 1 }, budgetCap: '1.00' }, customer.accessToken);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    // Its `submitted` event goes out now, before any stream opens (the scheduler's sweep is off here).
    await t.app.get(OutboxService).publishPending();
    return submitted.body.id as string;
  };

  it('sends the job, then the metrics, log lines and events published for it, and ends after its terminal status', async () => {
    const jobId = await submitJob();
    const stream = await openStream(t.baseUrl, jobId, customer.accessToken);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);

    // The snapshot comes once the stream is subscribed: what is published from now on arrives.
    const snapshot = await stream.next((e) => e.type === 'job');
    expect(snapshot.data).toMatchObject({ id: jobId, status: 'queued' });

    const nats = t.app.get(NatsService);
    const publish = (payload: unknown) => nats.connection.publish(jobEventsSubject(nats.prefix, jobId), new TextEncoder().encode(JSON.stringify(payload)));
    // Another job's messages are not this stream's.
    nats.connection.publish(jobEventsSubject(nats.prefix, '0190f4a0-0000-7000-8000-000000000000'), new TextEncoder().encode(JSON.stringify({ kind: 'metric', step: 99, loss: 9 })));
    publish({ kind: 'metric', step: 7, loss: 1.75, stepTimeMs: 41.5, gpuUtilizationPct: 93 });
    publish({ kind: 'logs', lines: ['step 7/100 loss 1.7500 (41.50 ms)'], stream: 'stdout' });
    expect((await stream.next((e) => e.type === 'metric')).data).toEqual({ kind: 'metric', step: 7, loss: 1.75, stepTimeMs: 41.5, gpuUtilizationPct: 93 });
    expect((await stream.next((e) => e.type === 'logs')).data).toEqual({ kind: 'logs', lines: ['step 7/100 loss 1.7500 (41.50 ms)'], stream: 'stdout' });

    // A real status change: the cancel's transition goes through the outbox, published after commit.
    const canceled = await t.http.post(`/v1/jobs/${jobId}/cancel`, {}, customer.accessToken);
    expect(canceled.body.status).toBe('canceled');
    await t.app.get(OutboxService).publishPending();
    const status = await stream.next((e) => e.type === 'event');
    expect(status.data.event).toMatchObject({ type: 'status', fromStatus: 'queued', toStatus: 'canceled' });

    // The job has ended: the server closes the stream.
    await stream.ended;
    expect(stream.events.map((e) => e.type)).toEqual(['job', 'metric', 'logs', 'event']);
  });

  it('a job that has already ended gets its snapshot and the end', async () => {
    const jobId = await submitJob();
    await t.http.post(`/v1/jobs/${jobId}/cancel`, {}, customer.accessToken);
    const stream = await openStream(t.baseUrl, jobId, customer.accessToken);
    await stream.ended;
    expect(stream.events).toHaveLength(1);
    expect(stream.events[0]).toMatchObject({ type: 'job', data: { id: jobId, status: 'canceled' } });
  });

  it("another org's job is a 404 with the error body, before any stream opens; no token is a 401", async () => {
    const jobId = await submitJob();
    const stranger = await signUp(t.http);
    const refused = await fetch(`${t.baseUrl}/v1/jobs/${jobId}/stream`, { headers: { authorization: `Bearer ${stranger.accessToken}` } });
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toMatch(/json/);
    expect(await refused.json()).toMatchObject({ code: 'not_found' });
    const anonymous = await fetch(`${t.baseUrl}/v1/jobs/${jobId}/stream`);
    expect(anonymous.status).toBe(401);
  });
});
