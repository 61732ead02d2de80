import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { expectEventually, launchTestBrowser, saveScreenshot, type TestBrowser } from '../../support/index.js';
import { startWebStack, totp, type WebStack } from './web-stack.js';

const SUITE = 'web-customer-account';

describe('customer account in a real browser: sign-up, two-factor with QR, API keys', () => {
  let stack: WebStack;
  let browser: TestBrowser;

  beforeAll(async () => {
    stack = await startWebStack('webacct');
    browser = await launchTestBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('signs up, turns on 2FA from the QR code, signs in with a recovery code, creates and revokes an API key', async () => {
    const page = await browser.newPage();
    onTestFailed(async () => {
      await saveScreenshot(page, SUITE, 'failed');
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    // Signed out: the consoles send you to sign in.
    await page.goto(stack.baseUrl);
    await page.getByRole('heading', { name: 'Sign in to Anneal' }).waitFor();
    await saveScreenshot(page, SUITE, '01-login');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    // The API's validation sentence, shown as it is.
    await page.getByRole('alert').getByText('password must be at least 10 characters').first().waitFor();
    await saveScreenshot(page, SUITE, '02-signup-validation');
    await page.getByLabel('Password').fill('analytical-engine-1843');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    await saveScreenshot(page, SUITE, '03-overview');

    // A reload keeps the session (refresh token in sessionStorage, access token re-issued).
    await page.reload();
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();

    // Two-factor enrolment: QR code, manual key, code, recovery codes shown once.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(100);
    const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    await saveScreenshot(page, SUITE, '04-2fa-qr');

    await page.getByLabel('6-digit code').fill('000000');
    await page.getByRole('button', { name: 'Verify and turn on' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('6-digit code').fill(totp(secret));
    await page.getByRole('button', { name: 'Verify and turn on' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
    await codes.first().waitFor();
    const recoveryCodes = (await codes.allTextContents()).map((c) => c.trim());
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    await saveScreenshot(page, SUITE, '05-recovery-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('Signing in asks for a code from your authenticator app.').waitFor();
    // Shown once: nothing on the page carries them any more.
    expect(await page.content()).not.toContain(recoveryCodes[0]);

    // Sign out, sign in: the second step asks for the code; a recovery code works once.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('analytical-engine-1843');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Authentication code').waitFor();
    await saveScreenshot(page, SUITE, '06-login-2fa-step');
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0] as string);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();

    // API keys: created and shown once, usable, then revoked and refused.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByText('No API keys yet').waitFor();
    await page.getByLabel('Key name').fill('CI pipeline');
    await page.getByRole('checkbox', { name: 'orgs:read' }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const keyText = (await page.getByTestId('new-api-key').textContent())?.trim() ?? '';
    expect(keyText).toMatch(/^ak_[A-Za-z0-9]{8}_[A-Za-z0-9]+$/);
    const prefix = keyText.split('_').slice(0, 2).join('_');
    const row = page.getByTestId(`api-key-${prefix}`);
    await row.waitFor();
    expect(await row.textContent()).toContain('orgs:read');
    expect(await row.textContent()).toContain('never');
    await saveScreenshot(page, SUITE, '07-api-key-created');

    const withKey = () => fetch(`${stack.baseUrl}/v1/orgs`, { headers: { Authorization: `Bearer ${keyText}` } });
    expect((await withKey()).status).toBe(200);
    // Last used shows up once the key has been used.
    await page.reload();
    await expectEventually(async () => expect(await page.getByTestId(`api-key-${prefix}`).textContent()).not.toContain('never'), 10_000, 200);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke CI pipeline' }).click();
    await row.getByText('revoked').waitFor();
    expect(await page.getByTestId('new-api-key').count()).toBe(0); // the key is not shown again after reload
    const refused = await withKey();
    expect(refused.status).toBe(401);
    await saveScreenshot(page, SUITE, '08-api-key-revoked');

    // Narrow screen: the nav folds behind Menu, the table scrolls within its card.
    await page.setViewportSize({ width: 390, height: 844 });
    await saveScreenshot(page, SUITE, '09-narrow-keys');
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Menu' }).click();
    expect(await nav.isVisible()).toBe(true);
    await saveScreenshot(page, SUITE, '10-narrow-menu');
    // (the test project has no DOM types: the page's document, typed by hand)
    const overflow = await page.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);

    expect(pageErrors).toEqual([]);
  });
});
