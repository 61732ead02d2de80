import type { CreateTopUpIntentInput, PaymentEvent, PaymentEventType, PaymentProcessor, PaymentWebhookResult, TopUpIntent } from './payment-processor.port.js';
import { DEFAULT_WEBHOOK_TOLERANCE_SECONDS, signWebhookPayload, verifyWebhookSignature } from './webhook-signature.js';

export interface TestPaymentProcessorConfig {
  webhookSecret: string;
  /** Makes payment and event ids (UUIDv7 in the API). */
  newId: () => string;
  toleranceSeconds?: number;
  /** Base of the fake hosted checkout page. */
  checkoutBaseUrl?: string;
}

export interface SignedWebhook {
  rawBody: string;
  signatureHeader: string;
  event: PaymentEvent;
}

interface WireEvent {
  id: string;
  type: PaymentEventType;
  created: number;
  data: { payment_id: string; org_id: string; amount_micros: string };
}

/**
 * The built-in processor for local runs and tests: intents live in memory, and completing one
 * produces a webhook signed exactly as a real processor would (same header, same HMAC), so the
 * API's webhook endpoint is exercised for real.
 */
export class TestPaymentProcessor implements PaymentProcessor {
  readonly name = 'test';
  private readonly intents = new Map<string, TopUpIntent>();

  constructor(private readonly config: TestPaymentProcessorConfig) {
    if (config.webhookSecret.length < 16) throw new Error('the test processor webhook secret must be at least 16 characters');
  }

  async createTopUpIntent(input: CreateTopUpIntentInput): Promise<TopUpIntent> {
    if (input.amountMicros <= 0n) throw new RangeError('a top-up must be positive');
    const paymentId = `pi_test_${this.config.newId()}`;
    const intent: TopUpIntent = {
      paymentId,
      orgId: input.orgId,
      amountMicros: input.amountMicros,
      currency: 'usd',
      checkoutUrl: `${this.config.checkoutBaseUrl ?? 'http://127.0.0.1/test-checkout'}/${paymentId}`,
      createdAt: new Date(input.now.getTime()),
    };
    this.intents.set(paymentId, intent);
    return intent;
  }

  /** Completes (or fails) an intent and returns the webhook the processor would send. */
  completeTopUp(paymentId: string, now: Date, outcome: 'succeeded' | 'failed' = 'succeeded'): SignedWebhook {
    const intent = this.intents.get(paymentId);
    if (!intent) throw new Error(`unknown test payment ${paymentId}`);
    const wire: WireEvent = {
      id: `evt_test_${this.config.newId()}`,
      type: outcome === 'succeeded' ? 'top_up.succeeded' : 'top_up.failed',
      created: Math.floor(now.getTime() / 1000),
      data: { payment_id: intent.paymentId, org_id: intent.orgId, amount_micros: intent.amountMicros.toString() },
    };
    const rawBody = JSON.stringify(wire);
    return { rawBody, signatureHeader: signWebhookPayload(rawBody, this.config.webhookSecret, now), event: toEvent(wire) };
  }

  parseWebhook(input: { rawBody: string; signatureHeader: string | undefined | null; now: Date }): PaymentWebhookResult {
    const verified = verifyWebhookSignature({
      payload: input.rawBody,
      header: input.signatureHeader,
      secret: this.config.webhookSecret,
      now: input.now,
      toleranceSeconds: this.config.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
    });
    if (!verified.ok) return verified;
    return parseWireEvent(input.rawBody);
  }
}

function toEvent(wire: WireEvent): PaymentEvent {
  return {
    eventId: wire.id,
    type: wire.type,
    paymentId: wire.data.payment_id,
    orgId: wire.data.org_id,
    amountMicros: BigInt(wire.data.amount_micros),
    createdAt: new Date(wire.created * 1000),
  };
}

/** Parses the wire form of an event whose signature was already verified. */
export function parseWireEvent(rawBody: string): PaymentWebhookResult {
  const invalid = { ok: false as const, code: 'webhook_payload_invalid' as const, message: 'The webhook body is not a payment event Anneal understands.' };
  let wire: unknown;
  try {
    wire = JSON.parse(rawBody);
  } catch {
    return invalid;
  }
  if (typeof wire !== 'object' || wire === null) return invalid;
  const w = wire as Partial<WireEvent>;
  const data = w.data;
  if (
    typeof w.id !== 'string' ||
    (w.type !== 'top_up.succeeded' && w.type !== 'top_up.failed') ||
    typeof w.created !== 'number' ||
    typeof data !== 'object' ||
    data === null ||
    typeof data.payment_id !== 'string' ||
    typeof data.org_id !== 'string' ||
    typeof data.amount_micros !== 'string' ||
    !/^\d{1,18}$/.test(data.amount_micros)
  ) {
    return invalid;
  }
  return { ok: true, event: toEvent(w as WireEvent) };
}
