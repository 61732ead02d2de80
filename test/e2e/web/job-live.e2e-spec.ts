import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ApiClient, exitOf, expectEventually, launchTestBrowser, saveScreenshot, supportChats, topUp, uploadDataset, type TestBrowser } from '../../support/index.js';
import { AGENT_MAIN } from '../../support/stack.js';
import { startWebStack, type WebStack } from './web-stack.js';

const SUITE = 'web-job-live';
const PASSWORD = 'correct horse battery staple';

/** The step the loss chart's caption names ("Loss at step 412: 1.8123, …"), or null before the first. */
async function captionStep(page: Page): Promise<number | null> {
  const caption = page.locator('.chart-card figcaption');
  if ((await caption.count()) === 0) return null;
  const match = /Loss at step (\d+)/.exec((await caption.textContent()) ?? '');
  return match ? Number(match[1]) : null;
}

describe('the job page in a real browser follows the job live, over the event stream, without polling', () => {
  let stack: WebStack;
  let browser: TestBrowser;
  const agents: ChildProcess[] = [];
  const agentHome = mkdtempSync(join(tmpdir(), 'anneal-web-live-agent-'));
  let agentOutput = '';

  beforeAll(async () => {
    stack = await startWebStack('webjoblive');
    browser = await launchTestBrowser();
  });

  afterAll(async () => {
    for (const agent of agents) if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGTERM');
    await Promise.all(agents.map((agent) => exitOf(agent)));
    await browser?.close();
    await stack?.stop();
    rmSync(agentHome, { recursive: true, force: true });
  });

  function agent(args: string[]): ChildProcess {
    const child = spawn(process.execPath, [AGENT_MAIN, ...args], { env: { PATH: process.env.PATH, TZ: 'UTC', ANNEAL_AGENT_HOME: agentHome }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c) => (agentOutput = (agentOutput + c).slice(-20_000)));
    child.stderr?.on('data', (c) => (agentOutput = (agentOutput + c).slice(-20_000)));
    agents.push(child);
    return child;
  }

  async function signUp(api: ApiClient, name: string) {
    const email = `${name}-${Date.now()}@example.com`;
    const created = await api.call('POST', '/v1/auth/signup', { email, password: PASSWORD, name });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const me = await api.call('GET', '/v1/me', undefined, created.body.accessToken);
    return { email, token: created.body.accessToken as string, orgId: me.body.actingOrgId as string };
  }

  it('loss chart, log tail and status move while no GET of /metrics or /logs follows the first; the stream ends with the job', async () => {
    const api = new ApiClient(stack.baseUrl);

    // A provider's node (a simulated RTX 4090 running the built-in synthetic trainer).
    const provider = await signUp(api, 'provider');
    expect((await api.call('POST', `/v1/orgs/${provider.orgId}/provider`, {}, provider.token)).status).toBe(200);
    const joinToken = await api.call('POST', '/v1/provider/nodes/join-tokens', {}, provider.token);
    expect(joinToken.status).toBe(201);
    const register = agent(['register', '--api', stack.baseUrl, '--token', joinToken.body.token, '--price', '0.45', '--simulate', '1x RTX 4090']);
    await exitOf(register);
    expect(register.exitCode, agentOutput).toBe(0);
    agent(['run', '--heartbeat-interval-ms', '500']);

    // A customer's job, long enough (1,024 tokens a step, 20,000 steps) to watch it train, with a
    // validation every 25 steps (a log line and a timeline event each).
    const customer = await signUp(api, 'customer');
    await topUp(api, customer.token, '20.00');
    const datasetId = await uploadDataset(api, customer.token, supportChats());
    await expectEventually(async () => {
      const offers = await api.call('GET', '/v1/offers?providerKind=community', undefined, customer.token);
      expect((Array.isArray(offers.body) ? offers.body : offers.body.offers).length, agentOutput).toBeGreaterThan(0);
    }, 30_000, 200);
    const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 256, batchSize: 16, gradientAccumulation: 4, steps: 20_000, validationPrompts: ['How do I reset my password?'], validationInterval: 25 };
    const submitted = await api.call('POST', '/v1/jobs', { name: 'live job', recipe, datasetId, resources: { gpuCount: 1 }, providers: ['community'], budgetCap: '5.00' }, customer.token);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const jobId = submitted.body.id as string;

    // The customer signs in and opens the job; every request the page makes is recorded.
    const page = await browser.newPage();
    onTestFailed(async () => {
      await saveScreenshot(page, SUITE, 'failed');
    });
    await page.goto(`${stack.baseUrl}/login`);
    await page.getByLabel('Email').fill(customer.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();

    const requests: Request[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith(`/v1/jobs/${jobId}`)) requests.push(request);
    });
    const gets = (suffix: string) => requests.filter((r) => r.method() === 'GET' && new URL(r.url()).pathname === `/v1/jobs/${jobId}${suffix}`);

    await page.goto(`${stack.baseUrl}/jobs/${jobId}`);
    const streamState = page.getByTestId('stream-state');
    await page.locator('[data-testid="stream-state"][data-state="live"]').waitFor({ timeout: 20_000 });
    expect(await streamState.textContent()).toContain('Live');

    // The stream carries the session in its Authorization header, never in the URL.
    const stream = gets('/stream');
    expect(stream).toHaveLength(1);
    expect((await stream[0]!.allHeaders()).authorization).toMatch(/^Bearer \S+$/);
    expect(stream[0]!.url()).toBe(`${stack.baseUrl}/v1/jobs/${jobId}/stream`);

    // Training shows up and moves: the caption's step advances twice, a new validation shows in the
    // log and in the timeline.
    try {
      await page.locator('.page-header .badge', { hasText: 'running' }).waitFor({ timeout: 90_000 });
      await expectEventually(async () => expect(await captionStep(page)).not.toBeNull(), 60_000, 100);
    } catch (error) {
      throw new Error(`the job did not start training: ${await page.locator('.timeline').textContent()}\nagent: ${agentOutput.slice(-3000)}`, { cause: error });
    }
    expect(gets('/metrics')).toHaveLength(1);
    expect(gets('/logs')).toHaveLength(1);
    const firstStep = (await captionStep(page))!;
    const validations = () => page.getByLabel('Job log').textContent().then((log) => (log ?? '').match(/validation step \d+/g) ?? []);
    const firstValidations = (await validations()).length;
    const timelineValidations = () => page.locator('.timeline li', { hasText: /Validation at step \d+/ }).count();
    const firstTimelineValidations = await timelineValidations();
    await saveScreenshot(page, SUITE, '01-live');
    let laterStep = firstStep;
    await expectEventually(async () => {
      laterStep = (await captionStep(page)) ?? firstStep;
      expect(laterStep).toBeGreaterThan(firstStep);
    }, 60_000, 100);
    await expectEventually(async () => expect(await captionStep(page)).toBeGreaterThan(laterStep), 60_000, 100);
    await expectEventually(async () => expect((await validations()).length).toBeGreaterThan(firstValidations), 60_000, 100);
    await expectEventually(async () => expect(await timelineValidations()).toBeGreaterThan(firstTimelineValidations), 60_000, 100);
    // All of that came over the stream: the first read of each, and no other.
    expect(gets('/metrics')).toHaveLength(1);
    expect(gets('/logs')).toHaveLength(1);
    expect(gets('/stream')).toHaveLength(1);
    await saveScreenshot(page, SUITE, '02-moved');

    // Cancel: the status arrives over the stream, the stream closes (the server ends it; the page
    // may drop it first, having read the job again) and is not reopened; the badge goes away.
    const streamClosed = new Promise<'finished' | 'failed'>((resolve) => {
      page.on('requestfinished', (r) => r === stream[0] && resolve('finished'));
      page.on('requestfailed', (r) => r === stream[0] && resolve('failed'));
    });
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('.page-header .badge', { hasText: 'canceled' }).waitFor({ timeout: 60_000 });
    await streamClosed;
    await streamState.waitFor({ state: 'detached' });
    expect(gets('/stream')).toHaveLength(1);
    await page.getByText(/Canceled by the user/).first().waitFor();
    await saveScreenshot(page, SUITE, '03-canceled');
  });
});
