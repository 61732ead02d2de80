import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyDataset, topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { JOB_OUTCOME_SOURCE, type JobOutcomeSource } from '../nodes/reliability.service.js';
import { SchedulerService } from './scheduler.service.js';

const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 512, batchSize: 4, steps: 100 };

describe('job submission (real Postgres, NATS, S3 protocol)', () => {
  let t: TestApp;
  let customer: Awaited<ReturnType<typeof signUp>>;
  let datasetId: string;

  beforeAll(async () => {
    t = await startTestApp({ s3: true });
    customer = await signUp(t.http);
    datasetId = (await readyDataset(t.http, customer.accessToken)).id;
  });

  afterAll(() => t?.close());

  const submit = (body: Record<string, unknown>, token = customer.accessToken, key?: string) =>
    t.http.post('/v1/jobs', { recipe, datasetId, resources: { gpuCount: 1 }, ...body }, token, key ? { 'Idempotency-Key': key } : undefined);

  const balance = async (token = customer.accessToken) => {
    const body = (await t.http.get('/v1/billing/balance', token)).body as { available: { micros: string }; held: { micros: string } };
    return { availableMicros: body.available.micros, heldMicros: body.held.micros };
  };

  it('refuses a job the credits cannot cover with 402 and the figures, holding nothing', async () => {
    const poor = await signUp(t.http);
    const data = await readyDataset(t.http, poor.accessToken);
    const refused = await submit({ datasetId: data.id, budgetCap: '5.00' }, poor.accessToken);
    expect(refused.status).toBe(402);
    expect(refused.body.code).toBe('insufficient_credits');
    expect((await balance(poor.accessToken)).heldMicros).toBe('0');
    expect((await t.http.get('/v1/jobs', poor.accessToken)).body.jobs).toEqual([]);
  });

  it('refuses a recipe that cannot fit the requested GPU, with the figures', async () => {
    const refused = await submit({ recipe: { ...recipe, baseModelId: 'meta-llama/Llama-3.1-70B', method: 'full' }, resources: { gpuModel: 'RTX 4090', gpuCount: 1 }, budgetCap: '5.00' });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('does_not_fit_memory');
    expect(refused.body.message).toMatch(/needs ~[\d,]+ GB, RTX 4090 has 24 GB/);
  });

  it("refuses another org's dataset as if it did not exist", async () => {
    const other = await signUp(t.http);
    await topUp(t.http, other.accessToken, '10.00');
    const refused = await submit({ budgetCap: '1.00' }, other.accessToken);
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('not_found');
  });

  it('queues with a hold of the budget cap, is idempotent per key, and a cancel releases the hold', async () => {
    await topUp(t.http, customer.accessToken, '20.00');
    const before = await balance();
    const first = await submit({ budgetCap: '3.50' }, customer.accessToken, 'submit-key-0001');
    expect(first.status).toBe(201);
    expect(first.body.status).toBe('queued');
    expect(first.body.holdMicros).toBe('3500000');
    const again = await submit({ budgetCap: '3.50' }, customer.accessToken, 'submit-key-0001');
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const different = await submit({ budgetCap: '4.00' }, customer.accessToken, 'submit-key-0001');
    expect(different.status).toBe(409);
    expect(different.body.code).toBe('idempotency_mismatch');
    const held = await balance();
    expect(BigInt(held.heldMicros) - BigInt(before.heldMicros)).toBe(3_500_000n);

    // No offer exists: a scheduler round leaves it queued and says why.
    await t.app.get(SchedulerService).tick();
    const waiting = await t.http.get(`/v1/jobs/${first.body.id}`, customer.accessToken);
    expect(waiting.body.status).toBe('queued');
    expect(waiting.body.waitingBecause).toMatch(/No matching offer is available right now; trying again in \d+ s\./);

    const canceled = await t.http.post(`/v1/jobs/${first.body.id}/cancel`, {}, customer.accessToken);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    const after = await balance();
    expect(after).toEqual(before);
    const events = await t.http.get(`/v1/jobs/${first.body.id}/events`, customer.accessToken);
    expect(events.body.filter((e: { type: string }) => e.type === 'status').map((e: { to: string }) => e.to)).toEqual(['matching', 'queued', 'canceled']);
    // A finished job cannot be canceled into another state.
    expect((await t.http.post(`/v1/jobs/${first.body.id}/cancel`, {}, customer.accessToken)).body.status).toBe('canceled');
  });

  it('without a budget cap and with no offer to price it, refuses with a sentence instead of guessing', async () => {
    const refused = await submit({});
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('no_matching_offer');
  });

  it('validates the body: steps or epochs, sane numbers, unknown fields', async () => {
    const noSteps = await submit({ recipe: { ...recipe, steps: undefined }, budgetCap: '1.00' });
    expect(noSteps.status).toBe(400);
    const unknown = await submit({ budgetCap: '1.00', priority: 'high' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details.fields).toEqual([{ field: 'priority', message: 'is not a known field' }]);
    const negative = await submit({ budgetCap: '-1' });
    expect(negative.status).toBe(400);
  });

  it("another org gets 404 on every job endpoint and changes nothing", async () => {
    const job = await submit({ budgetCap: '1.00' });
    expect(job.status).toBe(201);
    const stranger = await signUp(t.http);
    for (const path of ['', '/events', '/logs', '/metrics', '/artifacts']) {
      expect((await t.http.get(`/v1/jobs/${job.body.id}${path}`, stranger.accessToken)).status).toBe(404);
    }
    expect((await t.http.post(`/v1/jobs/${job.body.id}/cancel`, {}, stranger.accessToken)).status).toBe(404);
    expect((await t.http.get(`/v1/jobs/${job.body.id}`, customer.accessToken)).body.status).toBe('queued');
    expect((await t.http.get('/v1/jobs/not-a-uuid', customer.accessToken)).status).toBe(404);
  });

  it('pages log lines forward from afterSeq, or gives the last lines of a long run, oldest first', async () => {
    const job = await submit({ budgetCap: '1.00' });
    const attemptId = '01a20000-0000-7000-8000-0000000000c1';
    for (let seq = 1; seq <= 5; seq += 1) {
      await t.dataSource.query(`INSERT INTO job_logs (id, job_id, attempt_id, seq, at, stream, line) VALUES (gen_random_uuid(), $1, $2, $3, now(), 'stdout', $4)`, [job.body.id, attemptId, seq, `line ${seq}`]);
    }
    const read = (query: string) => t.http.get(`/v1/jobs/${job.body.id}/logs${query}`, customer.accessToken);
    const lines = (body: { lines: { line: string }[] }) => body.lines.map((l) => l.line);
    const first = await read('?limit=2');
    expect([lines(first.body), first.body.nextAfterSeq]).toEqual([['line 1', 'line 2'], 2]);
    expect(lines((await read('?afterSeq=2&limit=2')).body)).toEqual(['line 3', 'line 4']);
    const last = await read('?last=2');
    expect([lines(last.body), last.body.nextAfterSeq]).toEqual([['line 4', 'line 5'], 5]);
    expect(lines((await read('?last=1000')).body)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    const both = await read('?afterSeq=1&last=2');
    expect([both.status, both.body.code]).toEqual([400, 'validation_failed']);
    expect((await read('?last=-1')).status).toBe(400);
  });

  it("feeds node reliability with the share of a node's attempts that did not fail on it", async () => {
    const job = await submit({ budgetCap: '1.00' });
    const nodeA = '01a20000-0000-7000-8000-00000000000a';
    const nodeB = '01a20000-0000-7000-8000-00000000000b';
    const insert = (id: string, node: string, reason: string, ran: boolean, n: number) =>
      t.dataSource.query(
        `INSERT INTO attempts (id, job_id, org_id, number, provider_kind, offer_id, node_id, gpu_model, gpu_count, price_micros_per_gpu_hour, status, end_reason, attempt_token_hash, created_at, running_at, ended_at)
         VALUES ($1, $2, $3, $4, 'community', 'community:x', $5, 'rtx-4090', 1, 450000, 'ended', $6, 'h', now(), $7, now())`,
        [id, job.body.id, customer.orgId, n, node, reason, ran ? new Date() : null],
      );
    await insert('01a20000-0000-7000-8000-000000000001', nodeA, 'completed', true, 1);
    await insert('01a20000-0000-7000-8000-000000000002', nodeA, 'completed', true, 2);
    await insert('01a20000-0000-7000-8000-000000000003', nodeA, 'node_lost', true, 3);
    await insert('01a20000-0000-7000-8000-000000000004', nodeA, 'user_canceled', true, 4);
    // A provisioning failure before training started is not the node's fault.
    await insert('01a20000-0000-7000-8000-000000000005', nodeB, 'error', false, 5);
    const rates = await t.app.get<JobOutcomeSource>(JOB_OUTCOME_SOURCE).completionRates([nodeA, nodeB]);
    expect(rates.get(nodeA)).toBeCloseTo(2 / 3);
    expect(rates.has(nodeB)).toBe(false);
  });
});
