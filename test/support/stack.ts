import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { expectEventually } from './eventually.js';
import { natsTestUrl, uniquePrefix } from './nats.js';
import { freePort } from './ports.js';
import { startTestS3, type TestS3 } from './s3.js';

/**
 * The real stack for end-to-end suites: the built API as child processes (one or several replicas
 * on one database and NATS prefix), s3rver, and real `anneal-agent` processes. Every process is
 * stopped by PID when the stack closes.
 */
const root = resolve(import.meta.dirname, '..', '..');
export const API_MAIN = resolve(root, 'apps', 'api', 'dist', 'main.js');
export const AGENT_MAIN = resolve(root, 'apps', 'node-agent', 'dist', 'main.js');

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async call<T = any>(method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }
}

export type ManagedAgent = ManagedProcess;

export interface ManagedProcess {
  child: ChildProcess;
  output(): string;
}

function manage(child: ChildProcess): ManagedProcess {
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

export function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolveExit) => (child.exitCode !== null || child.signalCode !== null ? resolveExit() : child.once('exit', () => resolveExit())));
}

export interface Stack {
  db: TestDatabase;
  s3: TestS3;
  /** One client per API replica. */
  apis: ApiClient[];
  api: ApiClient;
  apiProcesses: ManagedProcess[];
  startAgent(provider: { token: string }, options?: { simulate?: string; price?: string }): Promise<ManagedProcess>;
  signUp(name: string): Promise<{ token: string; orgId: string; email: string }>;
  close(): Promise<void>;
}

/** Starts `replicas` API processes sharing one database, NATS prefix, S3 bucket and platform key. */
export async function startStack(options: { replicas?: number; env?: Record<string, string> } = {}): Promise<Stack> {
  const db = await createTestDatabase('stack');
  const s3 = await startTestS3();
  const processes: ManagedProcess[] = [];
  const homes: string[] = [];
  const prefix = uniquePrefix('stk');
  const { createUser } = await import('@nats-io/nkeys');
  const platformSeed = new TextDecoder().decode(createUser().getSeed());
  const shared = {
    PATH: process.env.PATH ?? '',
    TZ: 'UTC',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '5',
    NATS_URL: natsTestUrl(),
    NATS_SUBJECT_PREFIX: prefix,
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_BUCKET: `stk-${Date.now().toString(36)}`,
    AUTH_TOKEN_SECRET: 'e2e-secret-0123456789abcdef0123456789abcdef',
    ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
    PAYMENT_WEBHOOK_SECRET: 'e2e-webhook-secret-0123456789',
    PLATFORM_NKEY_SEED: platformSeed,
    ALLOW_SIMULATED_NODES: 'true',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  const apis: ApiClient[] = [];
  try {
    for (let i = 0; i < (options.replicas ?? 1); i += 1) {
      const port = await freePort();
      const managed = manage(spawn(process.execPath, [API_MAIN], { env: { ...shared, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] }));
      processes.push(managed);
      const client = new ApiClient(`http://127.0.0.1:${port}`);
      apis.push(client);
      await expectEventually(async () => {
        if (managed.child.exitCode !== null) throw new Error(`API exited: ${managed.output()}`);
        if ((await fetch(`${client.baseUrl}/readyz`)).status !== 200) throw new Error('not ready');
      }, 90_000, 100);
    }
  } catch (error) {
    for (const p of processes) p.child.kill('SIGKILL');
    await s3.close();
    await db.drop();
    throw error;
  }
  const api = apis[0]!;
  const apiProcesses = [...processes];
  let counter = 0;

  return {
    db,
    s3,
    apis,
    api,
    apiProcesses,
    async signUp(name) {
      counter += 1;
      const email = `${name}-${counter}-${Date.now()}@example.com`;
      const response = await api.call('POST', '/v1/auth/signup', { email, password: 'correct horse battery staple', name });
      if (response.status !== 201) throw new Error(`sign-up failed: ${response.status} ${JSON.stringify(response.body)}`);
      const me = await api.call('GET', '/v1/me', undefined, response.body.accessToken);
      return { token: response.body.accessToken as string, orgId: me.body.actingOrgId as string, email };
    },
    async startAgent(provider, agentOptions = {}) {
      const home = mkdtempSync(join(tmpdir(), 'anneal-agent-'));
      homes.push(home);
      const joinToken = await api.call('POST', '/v1/provider/nodes/join-tokens', {}, provider.token);
      if (joinToken.status !== 201) throw new Error(`join token: ${joinToken.status} ${JSON.stringify(joinToken.body)}`);
      const env = { PATH: process.env.PATH ?? '', ANNEAL_AGENT_HOME: home };
      const register = manage(
        spawn(process.execPath, [AGENT_MAIN, 'register', '--api', api.baseUrl, '--token', joinToken.body.token, '--price', agentOptions.price ?? '0.45', '--simulate', agentOptions.simulate ?? '1x RTX 4090'], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
      );
      await exitOf(register.child);
      if (register.child.exitCode !== 0) throw new Error(`agent register failed: ${register.output()}`);
      const agent = manage(spawn(process.execPath, [AGENT_MAIN, 'run', '--heartbeat-interval-ms', '500'], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
      processes.push(agent);
      return agent;
    },
    async close() {
      for (const p of [...processes].reverse()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      await Promise.all(processes.map((p) => exitOf(p.child)));
      await s3.close();
      await db.drop();
      for (const home of homes) rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A provider org with the provider role turned on. */
export async function providerAccount(stack: Stack, name = 'provider') {
  const provider = await stack.signUp(name);
  const enabled = await stack.api.call('POST', `/v1/orgs/${provider.orgId}/provider`, {}, provider.token);
  if (enabled.status !== 200) throw new Error(`enable provider: ${enabled.status}`);
  return provider;
}

/** Credits through the built-in test payment processor. */
export async function topUp(api: ApiClient, token: string, amountUsd: string): Promise<void> {
  const intent = await api.call('POST', '/v1/billing/top-ups', { amountUsd }, token);
  if (intent.status !== 201) throw new Error(`top-up: ${intent.status} ${JSON.stringify(intent.body)}`);
  const paid = await api.call('POST', `/v1/billing/top-ups/${intent.body.id}/simulate-payment`, {}, token);
  if (paid.status >= 300) throw new Error(`payment: ${paid.status} ${JSON.stringify(paid.body)}`);
}

/** A dataset uploaded through its presigned URL and verified. */
export async function uploadDataset(api: ApiClient, token: string, content: Buffer, fields: Record<string, unknown> = {}): Promise<string> {
  const created = await api.call(
    'POST',
    '/v1/datasets',
    { name: 'support-chats', format: 'jsonl', sizeBytes: content.length, sha256: createHash('sha256').update(content).digest('hex'), license: 'cc-by-4.0', ...fields },
    token,
  );
  if (created.status !== 201) throw new Error(`dataset create: ${created.status} ${JSON.stringify(created.body)}`);
  const put = await fetch(created.body.upload.url, { method: 'PUT', headers: created.body.upload.headers ?? {}, body: content });
  if (!put.ok) throw new Error(`dataset upload: ${put.status}`);
  const completed = await api.call('POST', `/v1/datasets/${created.body.dataset.id}/complete`, {}, token);
  if (completed.status !== 200 || completed.body.status !== 'ready') throw new Error(`dataset complete: ${completed.status} ${JSON.stringify(completed.body)}`);
  return completed.body.id as string;
}

/** A small instruction dataset the synthetic trainer really learns from. */
export function supportChats(lines = 200): Buffer {
  const questions = ['How do I reset my password?', 'Where is my invoice?', 'Can I change my plan?', 'How do I contact support?'];
  const answers = ['Open settings and choose reset password.', 'Invoices are under billing.', 'Yes, under billing choose a plan.', 'Write to support from the help menu.'];
  const rows = Array.from({ length: lines }, (_, i) => JSON.stringify({ prompt: questions[i % 4], completion: answers[i % 4] }));
  return Buffer.from(`${rows.join('\n')}\n`);
}
