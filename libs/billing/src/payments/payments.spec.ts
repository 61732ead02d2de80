import { describe, expect, it } from 'vitest';
import { TestPaymentProcessor } from './test-payment.processor.js';
import { signWebhookPayload, verifyWebhookSignature } from './webhook-signature.js';

const SECRET = 'whsec_test_0123456789abcdef';
const NOW = new Date('2026-04-01T12:00:00Z');
const ORG = '0190a0b0-0000-7000-8000-0000000000c1';

describe('webhook signatures', () => {
  const payload = '{"id":"evt_1"}';

  it('accepts its own signature within the tolerance window', () => {
    const header = signWebhookPayload(payload, SECRET, NOW);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature({ payload, header, secret: SECRET, now: new Date(NOW.getTime() + 299_000) })).toEqual({
      ok: true,
      timestamp: NOW,
    });
  });

  it('refuses stale, future, tampered, malformed and missing signatures with distinct codes', () => {
    const header = signWebhookPayload(payload, SECRET, NOW);
    const check = (patch: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({ payload, header, secret: SECRET, now: NOW, ...patch });
    expect(check({ now: new Date(NOW.getTime() + 301_000) })).toMatchObject({ ok: false, code: 'webhook_timestamp_out_of_tolerance' });
    expect(check({ now: new Date(NOW.getTime() - 301_000) })).toMatchObject({ ok: false, code: 'webhook_timestamp_out_of_tolerance' });
    expect(check({ now: new Date(NOW.getTime() + 3_000_000), toleranceSeconds: 5_000 })).toMatchObject({ ok: true });
    expect(check({ payload: '{"id":"evt_2"}' })).toMatchObject({ ok: false, code: 'webhook_signature_mismatch' });
    expect(check({ secret: 'another-secret-entirely' })).toMatchObject({ ok: false, code: 'webhook_signature_mismatch' });
    expect(check({ header: 'garbage' })).toMatchObject({ ok: false, code: 'webhook_signature_malformed' });
    expect(check({ header: 't=1,v1=abc' })).toMatchObject({ ok: false, code: 'webhook_signature_malformed' });
    expect(check({ header: undefined })).toMatchObject({ ok: false, code: 'webhook_signature_missing' });
    // A re-signed timestamp without the secret does not verify.
    const forged = header.replace(/^t=\d+/, `t=${Math.floor(NOW.getTime() / 1000) + 1}`);
    expect(check({ header: forged })).toMatchObject({ ok: false, code: 'webhook_signature_mismatch' });
  });

  it('accepts any one matching v1 among several (secret rotation)', () => {
    const good = signWebhookPayload(payload, SECRET, NOW).split(',')[1]!;
    const header = `t=${Math.floor(NOW.getTime() / 1000)},v1=${'0'.repeat(64)},${good}`;
    expect(verifyWebhookSignature({ payload, header, secret: SECRET, now: NOW }).ok).toBe(true);
  });
});

describe('TestPaymentProcessor', () => {
  let n = 0;
  const processor = new TestPaymentProcessor({ webhookSecret: SECRET, newId: () => `id${n++}` });

  it('creates an intent and signs its webhook like a real processor', async () => {
    const intent = await processor.createTopUpIntent({ orgId: ORG, amountMicros: 25_000_000n, now: NOW });
    expect(intent).toMatchObject({ orgId: ORG, amountMicros: 25_000_000n, currency: 'usd' });
    const webhook = processor.completeTopUp(intent.paymentId, NOW);
    expect(webhook.rawBody).not.toMatch(/card|cvc|pan/i);
    const parsed = processor.parseWebhook({ rawBody: webhook.rawBody, signatureHeader: webhook.signatureHeader, now: NOW });
    expect(parsed).toEqual({ ok: true, event: webhook.event });
    expect(webhook.event).toMatchObject({ type: 'top_up.succeeded', paymentId: intent.paymentId, amountMicros: 25_000_000n, orgId: ORG });
    expect(processor.parseWebhook({ rawBody: webhook.rawBody.replace('25000000', '95000000'), signatureHeader: webhook.signatureHeader, now: NOW })).toMatchObject({
      ok: false,
      code: 'webhook_signature_mismatch',
    });
  });

  it('refuses a signed body that is not an event', () => {
    const rawBody = '{"hello":1}';
    expect(processor.parseWebhook({ rawBody, signatureHeader: signWebhookPayload(rawBody, SECRET, NOW), now: NOW })).toMatchObject({
      ok: false,
      code: 'webhook_payload_invalid',
    });
  });

  it('refuses weak secrets, unknown intents and non-positive top-ups', async () => {
    expect(() => new TestPaymentProcessor({ webhookSecret: 'short', newId: () => 'x' })).toThrow();
    expect(() => processor.completeTopUp('pi_nope', NOW)).toThrow();
    await expect(processor.createTopUpIntent({ orgId: ORG, amountMicros: 0n, now: NOW })).rejects.toThrow(RangeError);
  });
});
