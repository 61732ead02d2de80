import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { expectEventually, providerAccount, startStack, supportChats, topUp, uploadDataset, type Stack } from '../support/index.js';

const NODES = 3;
const JOBS = 9;

describe('three API replicas scheduling on one database', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ replicas: 3 });
  });

  afterAll(() => stack?.close());

  it('never gives a node two jobs at once nor a job two live attempts, and runs every job', async () => {
    const provider = await providerAccount(stack);
    for (let i = 0; i < NODES; i += 1) await stack.startAgent(provider);
    const customer = await stack.signUp('customer');
    await expectEventually(async () => {
      const offers = await stack.api.call('GET', '/v1/offers?providerKind=community', undefined, customer.token);
      const list = Array.isArray(offers.body) ? offers.body : offers.body.offers;
      expect(list.length).toBe(NODES);
    }, 30_000, 200);
    await topUp(stack.api, customer.token, '50.00');
    const datasetId = await uploadDataset(stack.api, customer.token, supportChats(60));
    const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 128, batchSize: 2, steps: 12 };

    // Submissions spread over the replicas, as a load balancer would.
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i += 1) {
      const api = stack.apis[i % stack.apis.length]!;
      const submitted = await api.call('POST', '/v1/jobs', { name: `job ${i}`, recipe, datasetId, resources: { gpuCount: 1 }, providers: ['community'], budgetCap: '1.00' }, customer.token);
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
      jobIds.push(submitted.body.id);
    }

    await expectEventually(async () => {
      const { body } = await stack.api.call('GET', `/v1/jobs?limit=100`, undefined, customer.token);
      const statuses = body.jobs.map((j: { status: string }) => j.status);
      expect(statuses.filter((s: string) => s === 'succeeded').length, JSON.stringify(statuses)).toBe(JOBS);
    }, 240_000, 1000);

    const client = new pg.Client({ connectionString: stack.db.url });
    await client.connect();
    try {
      // No two attempts of one node overlap in time, and no job had two attempts live together.
      const overlaps = await client.query(`
        SELECT a.id FROM attempts a JOIN attempts b ON a.id < b.id
          AND (a.node_id = b.node_id OR a.job_id = b.job_id)
          AND tstzrange(a.created_at, COALESCE(a.ended_at, now())) && tstzrange(b.created_at, COALESCE(b.ended_at, now()))`);
      expect(overlaps.rows).toEqual([]);
      const completed = await client.query(`SELECT job_id, count(*)::int AS n FROM attempts WHERE end_reason = 'completed' GROUP BY job_id`);
      expect(completed.rows).toHaveLength(JOBS);
      for (const row of completed.rows) expect(row.n).toBe(1);
      // The work spread over every node.
      const nodesUsed = await client.query(`SELECT count(DISTINCT node_id)::int AS n FROM attempts`);
      expect(nodesUsed.rows[0].n).toBe(NODES);
    } finally {
      await client.end();
    }
  });
});
