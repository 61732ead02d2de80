import type { WebhookSignatureErrorCode } from './webhook-signature.js';

/**
 * The port to a payment processor (Stripe, Dodo, the built-in test processor). Anneal never sees
 * card data: the processor hosts the payment page; we create an intent and learn the outcome
 * from a signed webhook.
 */
export interface TopUpIntent {
  /** The processor's payment id (becomes the top-up transfer's `paymentId`). */
  paymentId: string;
  orgId: string;
  amountMicros: bigint;
  currency: 'usd';
  /** Where the user completes the payment (the processor's hosted page). */
  checkoutUrl: string;
  createdAt: Date;
}

export type PaymentEventType = 'top_up.succeeded' | 'top_up.failed';

/** A verified, parsed webhook event. `eventId` is unique per event: handle each at most once. */
export interface PaymentEvent {
  eventId: string;
  type: PaymentEventType;
  paymentId: string;
  orgId: string;
  amountMicros: bigint;
  createdAt: Date;
}

export type PaymentWebhookErrorCode = WebhookSignatureErrorCode | 'webhook_payload_invalid';

export type PaymentWebhookResult = { ok: true; event: PaymentEvent } | { ok: false; code: PaymentWebhookErrorCode; message: string };

export interface CreateTopUpIntentInput {
  orgId: string;
  amountMicros: bigint;
  now: Date;
}

export interface PaymentProcessor {
  readonly name: string;
  createTopUpIntent(input: CreateTopUpIntentInput): Promise<TopUpIntent>;
  /** Verifies the signature (constant time, tolerance window) and parses the event. */
  parseWebhook(input: { rawBody: string; signatureHeader: string | undefined | null; now: Date }): PaymentWebhookResult;
}
