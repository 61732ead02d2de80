import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { launchTestBrowser, saveScreenshot, type TestBrowser } from '../../support/index.js';
import { startWebStack, totp, type WebStack } from './web-stack.js';

const SUITE = 'web-marketplace';
const agentMain = resolve(import.meta.dirname, '..', '..', '..', 'apps', 'node-agent', 'dist', 'main.js');

function exitOf(child: ChildProcess): Promise<number | string | null> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(child.exitCode ?? child.signalCode) : child.once('exit', (code, signal) => r(code ?? signal))));
}

async function signUp(page: Page, baseUrl: string, name: string, email: string) {
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct-horse-battery-staple');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: `Welcome, ${name}` }).waitFor();
}

const nav = (page: Page, label: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();

describe('the marketplace in a real browser: a provider lists a node, a customer runs a job on it', () => {
  let stack: WebStack;
  let providerBrowser: TestBrowser;
  let customerBrowser: TestBrowser;
  let adminBrowser: TestBrowser;
  let customerPage: Page;
  let providerPage: Page;
  let jobUrl = '';
  const adminPassword = 'admin-password-for-web-e2e';
  const agents: ChildProcess[] = [];
  const agentHome = mkdtempSync(join(tmpdir(), 'anneal-web-agent-'));
  let agentOutput = '';

  beforeAll(async () => {
    stack = await startWebStack('webmkt', { DEMO_SEED: 'true', DEMO_ADMIN_PASSWORD: adminPassword, DEMO_CUSTOMER_PASSWORD: 'customer-password-web-e2e' });
    providerBrowser = await launchTestBrowser();
    customerBrowser = await launchTestBrowser();
    adminBrowser = await launchTestBrowser();
  });

  afterAll(async () => {
    for (const agent of agents) if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGTERM');
    await Promise.all(agents.map(exitOf));
    await providerBrowser?.close();
    await customerBrowser?.close();
    await adminBrowser?.close();
    await stack?.stop();
    rmSync(agentHome, { recursive: true, force: true });
  });

  function agent(args: string[]): ChildProcess {
    const child = spawn(process.execPath, [agentMain, ...args], { env: { PATH: process.env.PATH, TZ: 'UTC', ANNEAL_AGENT_HOME: agentHome }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c) => (agentOutput += c));
    child.stderr?.on('data', (c) => (agentOutput += c));
    agents.push(child);
    return child;
  }

  it('a provider enables the role, registers a node with the command shown, sees it online with charts, and changes its price', async () => {
    const page = await providerBrowser.newPage();
    providerPage = page;
    onTestFailed(async () => {
      await saveScreenshot(page, SUITE, 'failed-provider');
    });
    await signUp(page, stack.baseUrl, 'Grace Hopper', 'grace@example.com');
    await nav(page, 'Provide GPUs');
    await page.getByRole('button', { name: /Enable provider role/ }).click();
    await page.getByRole('heading', { name: 'Nodes', level: 1 }).waitFor();
    await page.getByText('No nodes yet').waitFor();

    await page.getByRole('button', { name: 'Create join token' }).click();
    const command = (await page.getByTestId('join-command').textContent())?.trim() ?? '';
    expect(command).toMatch(new RegExp(`^anneal-agent register --api ${stack.baseUrl.replace(/[.]/g, '\\.')} --token njt_\\S+ --price \\d`));
    await saveScreenshot(page, SUITE, '01-provider-join-command');

    // The command as shown, run on the "host" (a simulated RTX 4090), then the daemon.
    const register = agent([...command.split(/\s+/).slice(1), '--simulate', '1x RTX 4090']);
    expect(await exitOf(register), agentOutput).toBe(0);
    agent(['run', '--heartbeat-interval-ms', '1000']);

    const row = page.locator('[data-testid^="node-"]').first();
    await row.getByText('online').waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toMatch(/1× (NVIDIA GeForce )?RTX 4090/);
    await saveScreenshot(page, SUITE, '02-provider-node-online');

    await row.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Telemetry' }).waitFor();
    // Telemetry charts draw lines once samples arrive.
    await page.locator('.recharts-line-curve').first().waitFor({ timeout: 30_000 });
    expect(await page.getByRole('img', { name: /GPU utilisation over time/ }).count()).toBe(1);
    expect(await page.getByRole('img', { name: /GPU temperature over time/ }).count()).toBe(1);

    await page.getByLabel('Price per GPU-hour (USD)').fill('0.52');
    await page.getByRole('button', { name: 'Set price' }).click();
    await page.getByText('Saved: new jobs see this price.').waitFor();
    await page.getByText('$0.52 per GPU-hour').waitFor(); // read back from the API
    await page.getByRole('button', { name: 'Unlist' }).click();
    await page.getByRole('button', { name: 'List for rent' }).waitFor();
    await page.getByRole('button', { name: 'List for rent' }).click();
    await page.getByRole('button', { name: 'Unlist' }).waitFor();
    await saveScreenshot(page, SUITE, '03-provider-node-detail');
  });

  it('a customer tops up, uploads a dataset, sees the estimate per offer, and submits a job that runs on that node to success', async () => {
    const page = await customerBrowser.newPage();
    customerPage = page;
    onTestFailed(async () => {
      await saveScreenshot(page, SUITE, 'failed-customer');
    });
    await signUp(page, stack.baseUrl, 'Ada Lovelace', 'ada@example.com');

    // Credit through the built-in test processor.
    await nav(page, 'Billing');
    await page.getByLabel('Amount (USD)').fill('25.00');
    await page.getByRole('button', { name: 'Top up' }).click();
    await page.getByRole('button', { name: 'Complete test payment' }).click();
    await expectText(page.getByTestId('balance-available'), '$25.00');
    await saveScreenshot(page, SUITE, '04-customer-billing');

    // The provider's node is on offer at the price just set.
    await nav(page, 'GPU offers');
    const offer = page.getByTestId('offer-row').filter({ hasText: 'RTX 4090' }).first();
    await offer.waitFor();
    expect(await offer.textContent()).toContain('$0.52');

    // A dataset, hashed in the browser and PUT straight to storage.
    await nav(page, 'Datasets');
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ prompt: `Question ${i}?`, completion: `Answer ${i}.` })).join('\n');
    await page.getByLabel('File').setInputFiles({ name: 'support-chats.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(`${lines}\n`) });
    await page.getByRole('button', { name: 'Upload' }).click();
    const result = page.getByTestId('dataset-result');
    await result.getByText(/Checksum verified/).waitFor({ timeout: 30_000 });
    expect(await result.textContent()).toContain('200 samples');
    await result.getByText('Moderation passed').waitFor();
    await saveScreenshot(page, SUITE, '05-customer-dataset');

    // New job: a preset, the live estimate per offer, then submit.
    await nav(page, 'New job');
    await page.getByLabel('Recipe preset').selectOption({ label: 'Llama 3.1 8B, QLoRA, 2k context' });
    await page.getByLabel('Dataset').selectOption({ label: 'support-chats (jsonl, 200 samples)' });
    // Long enough (seconds of the synthetic trainer, even on a fast machine) that whole billed seconds are charged.
    await page.getByLabel('Steps').fill('600');
    const headline = page.getByTestId('estimate-headline');
    // The estimate for the form as it is now (not the one for the preset's 500 steps).
    await page.locator('section.estimate-panel[aria-busy="false"]').getByTestId('estimate-headline').waitFor({ timeout: 30_000 });
    expect(await headline.textContent()).toMatch(/^~\d+ (s|min|h)[^,]*, ~\$\d+\.\d\d on 1× RTX 4090 \(community\)/);
    const rows = page.getByTestId('estimate-row');
    expect(await rows.count()).toBeGreaterThanOrEqual(1);
    expect(await rows.first().textContent()).toContain('$0.52');
    await saveScreenshot(page, SUITE, '06-customer-estimate');
    await page.getByRole('radio', { name: /Choose 1× RTX 4090/ }).first().check();
    await page.getByRole('button', { name: 'Submit job' }).click();

    const refused = page.getByRole('form', { name: 'Job recipe' }).getByRole('alert');
    await page.getByRole('heading', { name: 'Summary' }).or(refused).first().waitFor({ timeout: 30_000 });
    expect(await refused.count(), (await refused.allTextContents()).join(' ')).toBe(0);
    expect(page.url()).toMatch(/\/jobs\/[0-9a-f-]{36}$/);
    try {
      await page.locator('.page-header .badge', { hasText: 'succeeded' }).waitFor({ timeout: 150_000 });
    } catch (error) {
      await saveScreenshot(page, SUITE, '07-customer-job-not-succeeded');
      const timeline = await page.locator('.timeline').textContent();
      throw new Error(`the job did not succeed: ${timeline}\nagent: ${agentOutput.slice(-3000)}`, { cause: error });
    }
    expect(await page.getByTestId('job-cost').textContent()).toMatch(/\$\d+\.\d\d/);
    await page.getByRole('heading', { name: 'Outputs' }).waitFor();
    jobUrl = page.url();
    await saveScreenshot(page, SUITE, '07-customer-job-succeeded');

    await nav(page, 'Jobs');
    await page.getByTestId('job-row').first().getByText('succeeded').waitFor();
    await nav(page, 'Billing');
    await page.getByText(/Charge for a job attempt/).first().waitFor();
    await saveScreenshot(page, SUITE, '08-customer-billing-after');

    await page.setViewportSize({ width: 390, height: 844 });
    await nav(page, 'Jobs').catch(async () => {
      await page.getByRole('button', { name: 'Menu' }).click();
      await nav(page, 'New job');
    });
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav(page, 'New job');
    await page.getByLabel('Dataset').selectOption({ label: 'support-chats (jsonl, 200 samples)' });
    await headline.waitFor({ timeout: 30_000 });
    await saveScreenshot(page, SUITE, '09-narrow-new-job');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('the customer disputes the job, the provider answers, and an admin with 2FA resolves it with a refund', async () => {
    expect(jobUrl, 'needs the job of the previous test').not.toBe('');
    const customer = customerPage;
    await customer.goto(jobUrl);
    await customer.getByRole('button', { name: 'Something went wrong? Open a dispute' }).click();
    await customer.getByLabel('What went wrong').selectOption('slower_than_offered');
    await customer.getByLabel('In your words').fill('It took far longer than the estimate said it would.');
    await customer.getByRole('button', { name: 'Open dispute' }).click();
    await customer.getByRole('heading', { name: 'Dispute', level: 1 }).waitFor();
    await customer.getByRole('heading', { name: 'Evidence' }).waitFor();
    await saveScreenshot(customer, SUITE, '10-customer-dispute');

    // The provider sees it and answers once.
    await providerPage.goto(`${stack.baseUrl}/disputes`);
    await providerPage.getByTestId('dispute-row').first().getByRole('link').click();
    await providerPage.getByLabel('Statement').fill('The node was healthy throughout; the recipe is simply heavy.');
    await providerPage.getByRole('button', { name: 'Send answer' }).click();
    await providerPage.getByRole('heading', { name: "The provider's answer" }).waitFor();

    // An admin signs in, must turn on 2FA for the admin console, then decides.
    const admin = await adminBrowser.newPage();
    await admin.goto(`${stack.baseUrl}/login`);
    await admin.getByLabel('Email').fill('admin@anneal.local');
    await admin.getByLabel('Password').fill(adminPassword);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('heading', { name: /^Welcome/ }).waitFor();
    await nav(admin, 'Account');
    await admin.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const secret = (await admin.getByTestId('totp-secret').textContent())?.trim() ?? '';
    await admin.getByLabel('6-digit code').fill(totp(secret));
    await admin.getByRole('button', { name: 'Verify and turn on' }).click();
    await admin.getByRole('button', { name: 'I have saved them' }).click();

    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Disputes' }).last().click();
    await admin.getByLabel('Show').selectOption('answered');
    await admin.getByTestId('dispute-row').first().getByRole('link').click();
    await admin.getByRole('heading', { name: 'What the evidence suggests' }).waitFor();
    await admin.getByLabel('Resolution').selectOption('full_refund');
    await admin.getByLabel('Note to both parties').fill('Slower than the estimate: refunded in full.');
    await saveScreenshot(admin, SUITE, '11-admin-dispute');
    await admin.getByRole('button', { name: 'Resolve dispute' }).click();
    const refusedResolve = admin.getByRole('form', { name: 'Decide' }).getByRole('alert');
    await admin.getByText('resolved: full refund').first().or(refusedResolve).first().waitFor();
    expect(await refusedResolve.count(), (await refusedResolve.allTextContents()).join(' ')).toBe(0);

    // The customer sees the decision and the refund in the ledger.
    await customer.reload();
    await customer.getByText('resolved: full refund').first().waitFor();
    // A full refund is what was charged, to the micro-dollar (sub-cent amounts shown exactly).
    const charged = await customer.locator('dt:text-is("Charged") + dd').textContent();
    expect(charged).toMatch(/^\$\d+\.\d+$/);
    expect(await customer.getByTestId('dispute-refund').textContent()).toBe(charged);
    await nav(customer, 'Billing');
    await customer.getByText(/Dispute resolution/).first().waitFor();
    await saveScreenshot(customer, SUITE, '12-customer-refund');

    // The provider drains the node: it finishes nothing more and takes no new jobs.
    await providerPage.goto(`${stack.baseUrl}/provider`);
    await providerPage.locator('[data-testid^="node-"]').first().getByRole('link').first().click();
    providerPage.once('dialog', (dialog) => void dialog.accept());
    await providerPage.getByRole('button', { name: 'Drain' }).click();
    await providerPage.getByRole('button', { name: 'Return to service' }).waitFor({ timeout: 20_000 });
    await providerPage.locator('dt:text-is("Status") + dd', { hasText: '(draining)' }).waitFor({ timeout: 20_000 });
  });
});

async function expectText(locator: ReturnType<Page['getByTestId']>, text: string) {
  await locator.getByText(text, { exact: true }).or(locator.filter({ hasText: text })).first().waitFor({ timeout: 20_000 });
}
