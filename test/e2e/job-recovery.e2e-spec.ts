import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEventually, providerAccount, startStack, supportChats, topUp, uploadDataset, type ManagedAgent, type Stack } from '../support/index.js';

/** Long enough to stop midway on this machine; the synthetic trainer checkpoints on an interval. */
const longRecipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 256, batchSize: 4, steps: 3000 };
const TOP_UP_MICROS = 20_000_000n;

describe('jobs when machines fail, users cancel and budgets run out (real agents)', () => {
  let stack: Stack;
  let customer: { token: string };
  let provider: { token: string };
  let datasetId: string;

  beforeAll(async () => {
    stack = await startStack();
    provider = await providerAccount(stack);
    customer = await stack.signUp('customer');
    await topUp(stack.api, customer.token, '20.00');
    datasetId = await uploadDataset(stack.api, customer.token, supportChats());
  });

  afterAll(() => stack?.close());

  const job = async (id: string) => (await stack.api.call('GET', `/v1/jobs/${id}`, undefined, customer.token)).body;
  const events = async (id: string) => (await stack.api.call('GET', `/v1/jobs/${id}/events`, undefined, customer.token)).body as { type: string; to: string | null; data: Record<string, unknown>; attemptId: string | null }[];
  const balance = async () => {
    const body = (await stack.api.call('GET', '/v1/billing/balance', undefined, customer.token)).body;
    return { available: BigInt(body.available.micros), held: BigInt(body.held.micros) };
  };

  /** Waits until exactly `count` community offers exist (the agents just started are online). */
  async function offersOnline(count: number) {
    await expectEventually(async () => {
      const offers = await stack.api.call('GET', '/v1/offers?providerKind=community', undefined, customer.token);
      const list = Array.isArray(offers.body) ? offers.body : offers.body.offers;
      expect(list.length).toBe(count);
    }, 30_000, 200);
  }

  async function submit(extra: Record<string, unknown> = {}) {
    const submitted = await stack.api.call('POST', '/v1/jobs', { recipe: longRecipe, datasetId, resources: { gpuCount: 1 }, providers: ['community'], budgetCap: '2.00', ...extra }, customer.token);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    return submitted.body.id as string;
  }

  async function waitFor(id: string, status: string, agent?: ManagedAgent, timeoutMs = 120_000) {
    return expectEventually(async () => {
      const current = await job(id);
      expect(current.status, `${current.finalMessage ?? ''} ${agent?.output().slice(-2000) ?? ''}`).toBe(status);
      return current;
    }, timeoutMs, 300);
  }

  async function waitForCheckpoint(id: string) {
    await expectEventually(async () => expect((await events(id)).some((e) => e.type === 'checkpoint')).toBe(true), 120_000, 300);
  }

  /** The ledger is settled for every attempt once each has its billable seconds. */
  async function settled(id: string) {
    return expectEventually(async () => {
      const current = await job(id);
      for (const attempt of current.attempts) expect(attempt.billableSeconds).not.toBeNull();
      return current;
    }, 30_000, 200);
  }

  it('a lost node: the attempt ends node_lost, billed only to its last heartbeat; the job resumes elsewhere from its checkpoint and succeeds', async () => {
    const first = await stack.startAgent(provider);
    await offersOnline(1);
    const id = await submit();
    await waitFor(id, 'running', first);
    await waitForCheckpoint(id);
    first.child.kill('SIGKILL');
    const second = await stack.startAgent(provider);

    const done = await waitFor(id, 'succeeded', second, 180_000);
    const final = await settled(id);
    expect(final.attempts.map((a: { endReason: string }) => a.endReason)).toEqual(['node_lost', 'completed']);
    const lost = final.attempts[0];
    const ranSeconds = (Date.parse(lost.endedAt) - Date.parse(lost.runningAt)) / 1000;
    // Detection takes ~10 s after the last heartbeat; those seconds are not billed.
    expect(lost.billableSeconds).toBeLessThan(ranSeconds - 5);
    const timeline = (await events(id)).filter((e) => e.type === 'status').map((e) => e.to);
    // After the first run: lost, queued again, matched to the other node (possibly after waiting for it), run to the end.
    const afterFirstRun = timeline.slice(timeline.indexOf('running') + 1);
    expect(afterFirstRun[0]).toBe('queued');
    expect(afterFirstRun.slice(-5)).toEqual(['matching', 'provisioning', 'running', 'uploading', 'succeeded']);
    expect(done.finalMessage).toMatch(/Training finished/);
    const logs = (await stack.api.call('GET', `/v1/jobs/${id}/logs?limit=1000`, undefined, customer.token)).body.lines.map((l: { line: string }) => l.line);
    expect(logs.some((line: string) => /resumed from the checkpoint of step [1-9]/.test(line)), logs.slice(-20).join('\n')).toBe(true);
    second.child.kill('SIGTERM');
  });

  it('a cancel while running stops the trainer after a final checkpoint, charges only the seconds run, and releases the hold', async () => {
    const agent = await stack.startAgent(provider);
    await offersOnline(1);
    const before = await balance();
    const id = await submit();
    await waitFor(id, 'running', agent);
    const canceled = await stack.api.call('POST', `/v1/jobs/${id}/cancel`, {}, customer.token);
    expect(canceled.status).toBe(200);
    expect(canceled.body.cancelRequested).toBe(true);
    await waitFor(id, 'canceled', agent);
    const final = await settled(id);
    expect(final.attempts.at(-1).endReason).toBe('user_canceled');
    expect((await events(id)).some((e) => e.type === 'checkpoint' && /canceled/.test(String((e as { message?: string }).message ?? '')))).toBe(true);
    const after = await balance();
    expect(after.held).toBe(before.held);
    expect(before.available - after.available).toBe(BigInt(final.actual.costMicros));
    agent.child.kill('SIGTERM');
  });

  it('a budget cap stops the job at the cap and charges exactly the cap', async () => {
    const agent = await stack.startAgent(provider);
    await offersOnline(1);
    const before = await balance();
    // $0.45/h: a tenth of a cent buys 8 seconds.
    const id = await submit({ budgetCap: '0.001' });
    const final = await waitFor(id, 'budget_exhausted', agent, 180_000);
    const settledJob = await settled(id);
    expect(settledJob.actual.costMicros).toBe('1000');
    const after = await balance();
    expect(before.available - after.available).toBe(1000n);
    expect(after.held).toBe(before.held);
    expect(final.finalMessage).toMatch(/budget cap/);
    expect(before.available + before.held).toBeLessThanOrEqual(TOP_UP_MICROS);
    agent.child.kill('SIGTERM');
  });
});
