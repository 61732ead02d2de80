import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, expectEventually, freePort, natsTestUrl, startTestS3, uniquePrefix, type TestDatabase, type TestS3 } from '../support/index.js';

const root = resolve(import.meta.dirname, '..', '..');
const apiMain = resolve(root, 'apps', 'api', 'dist', 'main.js');
const agentMain = resolve(root, 'apps', 'node-agent', 'dist', 'main.js');

/** A small instruction dataset the synthetic trainer really learns from. */
function datasetText(): string {
  const lines: string[] = [];
  const questions = ['How do I reset my password?', 'Where is my invoice?', 'Can I change my plan?', 'How do I contact support?'];
  const answers = ['Open settings and choose reset password.', 'Invoices are under billing.', 'Yes, under billing choose a plan.', 'Write to support from the help menu.'];
  for (let i = 0; i < 200; i += 1) lines.push(JSON.stringify({ prompt: questions[i % 4], completion: answers[i % 4] }));
  return `${lines.join('\n')}\n`;
}

interface Api {
  call<T = any>(method: string, path: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
}

function apiClient(baseUrl: string): Api {
  return {
    async call(method, path, body, token, headers = {}) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolveExit) => (child.exitCode !== null || child.signalCode !== null ? resolveExit() : child.once('exit', () => resolveExit())));
}

describe('a fine-tuning job from upload to download (built API, real agent, Postgres, NATS, S3)', () => {
  const children: ChildProcess[] = [];
  let db: TestDatabase;
  let s3: TestS3;
  let agentHome: string;
  let api: Api;
  let baseUrl: string;
  let apiOutput = '';

  beforeAll(async () => {
    db = await createTestDatabase('e2ejob');
    s3 = await startTestS3();
    agentHome = mkdtempSync(join(tmpdir(), 'anneal-agent-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [apiMain], {
      env: {
        PATH: process.env.PATH,
        TZ: 'UTC',
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        NATS_URL: natsTestUrl(),
        NATS_SUBJECT_PREFIX: uniquePrefix('e2e'),
        S3_ENDPOINT: s3.endpoint,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        S3_BUCKET: `e2e-${Date.now().toString(36)}`,
        AUTH_TOKEN_SECRET: 'e2e-secret-0123456789abcdef0123456789abcdef',
        ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
        PAYMENT_WEBHOOK_SECRET: 'e2e-webhook-secret-0123456789',
        ALLOW_SIMULATED_NODES: 'true',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdout?.on('data', (chunk) => (apiOutput = (apiOutput + chunk).slice(-20_000)));
    child.stderr?.on('data', (chunk) => (apiOutput = (apiOutput + chunk).slice(-20_000)));
    api = apiClient(baseUrl);
    await expectEventually(async () => {
      if (child.exitCode !== null) throw new Error(`API exited: ${apiOutput}`);
      expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
    }, 60_000, 100);
  });

  afterAll(async () => {
    for (const child of children.reverse()) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map(exitOf));
    await s3?.close();
    await db?.drop();
    if (agentHome) rmSync(agentHome, { recursive: true, force: true });
  });

  async function signUp(name: string) {
    const email = `${name}-${Date.now()}@example.com`;
    const response = await api.call('POST', '/v1/auth/signup', { email, password: 'correct horse battery staple', name });
    expect(response.status).toBe(201);
    const me = await api.call('GET', '/v1/me', undefined, response.body.accessToken);
    return { token: response.body.accessToken as string, orgId: me.body.actingOrgId as string };
  }

  it('uploads, quotes, submits, trains on the demo node, succeeds, and downloads the artifact', async () => {
    // Provider: a community node with a simulated RTX 4090, run by the real anneal-agent.
    const provider = await signUp('provider');
    expect((await api.call('POST', `/v1/orgs/${provider.orgId}/provider`, {}, provider.token)).status).toBe(200);
    const joinToken = await api.call('POST', '/v1/provider/nodes/join-tokens', {}, provider.token);
    expect(joinToken.status).toBe(201);
    const agentEnv = { PATH: process.env.PATH, ANNEAL_AGENT_HOME: agentHome };
    const register = spawn(process.execPath, [agentMain, 'register', '--api', baseUrl, '--token', joinToken.body.token, '--price', '0.45', '--simulate', '1x RTX 4090'], { env: agentEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let registerOutput = '';
    register.stdout?.on('data', (c) => (registerOutput += c));
    register.stderr?.on('data', (c) => (registerOutput += c));
    await exitOf(register);
    expect(register.exitCode, registerOutput).toBe(0);
    const agent = spawn(process.execPath, [agentMain, 'run', '--heartbeat-interval-ms', '500'], { env: agentEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(agent);
    let agentOutput = '';
    agent.stdout?.on('data', (c) => (agentOutput = (agentOutput + c).slice(-20_000)));
    agent.stderr?.on('data', (c) => (agentOutput = (agentOutput + c).slice(-20_000)));

    const customer = await signUp('customer');
    await expectEventually(async () => {
      const offers = await api.call('GET', '/v1/offers?providerKind=community', undefined, customer.token);
      expect(offers.status).toBe(200);
      const list = Array.isArray(offers.body) ? offers.body : offers.body.offers;
      expect(list.length, agentOutput).toBeGreaterThan(0);
    }, 30_000, 200);

    // Credits through the built-in test payment processor (a signed webhook, as a real one sends).
    const topUp = await api.call('POST', '/v1/billing/top-ups', { amountUsd: '20.00' }, customer.token);
    expect(topUp.status).toBe(201);
    expect((await api.call('POST', `/v1/billing/top-ups/${topUp.body.id}/simulate-payment`, {}, customer.token)).status).toBeLessThan(300);

    // The dataset goes straight to storage through the presigned URL, then is verified.
    const content = Buffer.from(datasetText());
    const created = await api.call('POST', '/v1/datasets', {
      name: 'support-chats',
      format: 'jsonl',
      sizeBytes: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      license: 'cc-by-4.0',
      deleteAfterTraining: false,
    }, customer.token);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const upload = created.body.upload;
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers ?? {}, body: content });
    expect(put.status).toBe(200);
    const completed = await api.call('POST', `/v1/datasets/${created.body.dataset?.id ?? created.body.id}/complete`, {}, customer.token);
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    const datasetId = completed.body.id as string;
    expect(completed.body.status).toBe('ready');

    const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', precision: 'bf16', sequenceLength: 256, batchSize: 4, gradientAccumulation: 1, steps: 60 };
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

    const job = await expectEventually(async () => {
      const current = await api.call('GET', `/v1/jobs/${jobId}`, undefined, customer.token);
      if (['failed', 'canceled', 'budget_exhausted'].includes(current.body.status)) throw new Error(`job ended ${current.body.status}: ${current.body.finalMessage}\n${agentOutput}\n${apiOutput}`);
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
    expect(artifacts.body.artifacts.length, `${JSON.stringify(artifacts.body)} ${agentOutput.slice(-3000)}`).toBeGreaterThan(0);
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
    const stranger = await signUp('stranger');
    for (const path of [`/v1/jobs/${jobId}`, `/v1/jobs/${jobId}/logs`, `/v1/jobs/${jobId}/metrics`, `/v1/jobs/${jobId}/artifacts`, `/v1/jobs/${jobId}/events`]) {
      expect((await api.call('GET', path, undefined, stranger.token)).status).toBe(404);
    }
    expect((await api.call('POST', `/v1/jobs/${jobId}/cancel`, {}, stranger.token)).status).toBe(404);
  });
});
