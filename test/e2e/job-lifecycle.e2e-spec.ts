import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEventually, providerAccount, startStack, supportChats, topUp, uploadDataset, type Stack } from '../support/index.js';

describe('a fine-tuning job from upload to download (built API, real agent, Postgres, NATS, S3)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(() => stack?.close());

  it('uploads, quotes, submits, trains on a community node, succeeds, and downloads the artifact', async () => {
    const { api } = stack;
    const provider = await providerAccount(stack);
    const agent = await stack.startAgent(provider);
    const customer = await stack.signUp('customer');
    await expectEventually(async () => {
      const offers = await api.call('GET', '/v1/offers?providerKind=community', undefined, customer.token);
      const list = Array.isArray(offers.body) ? offers.body : offers.body.offers;
      expect(list.length, agent.output()).toBeGreaterThan(0);
    }, 30_000, 200);

    await topUp(api, customer.token, '20.00');
    const datasetId = await uploadDataset(api, customer.token, supportChats());

    // 600 steps: seconds of the synthetic trainer even on a fast machine, so whole billed seconds are charged.
    const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', precision: 'bf16', sequenceLength: 256, batchSize: 4, gradientAccumulation: 1, steps: 600 };
    const quote = await api.call('POST', '/v1/estimates', { recipe, resources: { gpuCount: 1 }, providers: ['community'] }, customer.token);
    expect(quote.status, JSON.stringify(quote.body)).toBe(200);
    expect(quote.body.rows.length).toBeGreaterThan(0);

    const submission = { name: 'support bot', recipe, datasetId, resources: { gpuCount: 1 }, providers: ['community'], quoteId: quote.body.id, budgetCap: '5.00' };
    const submitted = await api.call('POST', '/v1/jobs', submission, customer.token, { 'Idempotency-Key': 'e2e-job-submission-1' });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const retried = await api.call('POST', '/v1/jobs', submission, customer.token, { 'Idempotency-Key': 'e2e-job-submission-1' });
    expect(retried.status).toBe(200);
    expect(retried.body.id).toBe(submitted.body.id);
    const jobId = submitted.body.id as string;
    expect(submitted.body.estimate.runtimeSeconds.p50).toBeGreaterThan(0);
    // Submitted the moment the quote was answered, the job is priced from that quote, not a fresh estimate.
    expect(submitted.body.quote.quoteId).toBe(quote.body.id);

    const job = await expectEventually(async () => {
      const current = await api.call('GET', `/v1/jobs/${jobId}`, undefined, customer.token);
      if (['failed', 'canceled', 'budget_exhausted'].includes(current.body.status)) {
        throw new Error(`job ended ${current.body.status}: ${current.body.finalMessage}\n${agent.output()}\n${stack.apiProcesses[0]!.output()}`);
      }
      expect(current.body.status).toBe('succeeded');
      // The attempt's seconds are posted to the ledger just after the job's status changes.
      expect(current.body.attempts[0]?.billableSeconds).not.toBeNull();
      return current.body;
    }, 150_000, 500);

    // The estimate shown at submission and the actual run are both on the job.
    expect(job.estimate.summary).toMatch(/RTX 4090/);
    expect(job.actual.runtimeSeconds).toBeGreaterThan(0);
    expect(BigInt(job.actual.costMicros), JSON.stringify(job)).toBeGreaterThan(0n);
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0].endReason).toBe('completed');

    const events = await api.call('GET', `/v1/jobs/${jobId}/events`, undefined, customer.token);
    const statuses = events.body.filter((e: { type: string }) => e.type === 'status').map((e: { to: string }) => e.to);
    expect(statuses).toEqual(['matching', 'provisioning', 'running', 'uploading', 'succeeded']);

    const metrics = await api.call('GET', `/v1/jobs/${jobId}/metrics`, undefined, customer.token);
    const losses = metrics.body.points.map((p: { loss: number | null }) => p.loss).filter((l: number | null): l is number => l !== null);
    expect(losses.length).toBeGreaterThanOrEqual(3);
    expect(losses.at(-1)).toBeLessThan(losses[0]);

    const logs = await api.call('GET', `/v1/jobs/${jobId}/logs`, undefined, customer.token);
    expect(logs.body.lines.length).toBeGreaterThan(0);

    const artifacts = await api.call('GET', `/v1/jobs/${jobId}/artifacts`, undefined, customer.token);
    expect(artifacts.body.artifacts.length, `${JSON.stringify(artifacts.body)} ${agent.output().slice(-3000)}`).toBeGreaterThan(0);
    const download = await fetch(artifacts.body.artifacts[0].url);
    expect(download.status).toBe(200);
    expect((await download.arrayBuffer()).byteLength).toBeGreaterThan(0);

    // Money: the customer paid exactly the job's cost; the provider earned its share.
    const balance = await api.call('GET', '/v1/billing/balance', undefined, customer.token);
    expect(BigInt(balance.body.available.micros) + BigInt(job.actual.costMicros)).toBe(20_000_000n);
    expect(BigInt(balance.body.held.micros)).toBe(0n);
    const earnings = await api.call('GET', '/v1/provider/earnings', undefined, provider.token);
    expect(BigInt(earnings.body.payable.micros)).toBeGreaterThan(0n);

    // Another organization sees none of it.
    const stranger = await stack.signUp('stranger');
    for (const path of [`/v1/jobs/${jobId}`, `/v1/jobs/${jobId}/logs`, `/v1/jobs/${jobId}/metrics`, `/v1/jobs/${jobId}/artifacts`, `/v1/jobs/${jobId}/events`]) {
      expect((await api.call('GET', path, undefined, stranger.token)).status).toBe(404);
    }
    expect((await api.call('POST', `/v1/jobs/${jobId}/cancel`, {}, stranger.token)).status).toBe(404);
  });
});
