import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stripe-style webhook signatures: header `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload">`.
 * Several `v1=` entries may be present (a secret being rotated); one matching is enough.
 */

export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

export type WebhookSignatureErrorCode =
  | 'webhook_signature_missing'
  | 'webhook_signature_malformed'
  | 'webhook_timestamp_out_of_tolerance'
  | 'webhook_signature_mismatch';

export type WebhookVerification =
  | { ok: true; timestamp: Date }
  | { ok: false; code: WebhookSignatureErrorCode; message: string };

function hmacHex(secret: string, timestampSeconds: number, payload: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
}

/** Signs a raw payload as a processor would; returns the header value. */
export function signWebhookPayload(payload: string, secret: string, timestamp: Date): string {
  const t = Math.floor(timestamp.getTime() / 1000);
  return `t=${t},v1=${hmacHex(secret, t, payload)}`;
}

export interface VerifyWebhookInput {
  /** The raw request body, exactly as received (before any JSON parsing). */
  payload: string;
  header: string | undefined | null;
  secret: string;
  now: Date;
  toleranceSeconds?: number;
}

/** Checks the signature in constant time and the timestamp against the tolerance window. */
export function verifyWebhookSignature(input: VerifyWebhookInput): WebhookVerification {
  if (!input.header) return { ok: false, code: 'webhook_signature_missing', message: 'The webhook has no signature header.' };
  let timestampSeconds: number | null = null;
  const signatures: string[] = [];
  for (const part of input.header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestampSeconds = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  if (timestampSeconds === null || signatures.length === 0) {
    return { ok: false, code: 'webhook_signature_malformed', message: 'The webhook signature header is not of the form t=<unix>,v1=<hex>.' };
  }
  const tolerance = input.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor(input.now.getTime() / 1000);
  if (Math.abs(nowSeconds - timestampSeconds) > tolerance) {
    return { ok: false, code: 'webhook_timestamp_out_of_tolerance', message: `The webhook was signed more than ${tolerance} seconds away from now.` };
  }
  const expected = Buffer.from(hmacHex(input.secret, timestampSeconds, input.payload), 'hex');
  let matched = false;
  for (const signature of signatures) {
    // Compare every candidate (no early exit) in constant time.
    if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) matched = true;
  }
  if (!matched) return { ok: false, code: 'webhook_signature_mismatch', message: 'The webhook signature does not match its payload.' };
  return { ok: true, timestamp: new Date(timestampSeconds * 1000) };
}
