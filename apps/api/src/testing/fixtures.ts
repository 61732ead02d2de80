import { createHash } from 'node:crypto';
import type { HttpClient } from './test-app.js';

/** Credits an org through the built-in test payment processor (a signed webhook, as a processor sends it). */
export async function topUp(http: HttpClient, token: string, amountUsd: string): Promise<void> {
  const intent = await http.post('/v1/billing/top-ups', { amountUsd }, token);
  if (intent.status !== 201) throw new Error(`top-up failed: ${intent.status} ${JSON.stringify(intent.body)}`);
  const paid = await http.post(`/v1/billing/top-ups/${intent.body.id}/simulate-payment`, {}, token);
  if (paid.status >= 300) throw new Error(`payment failed: ${paid.status} ${JSON.stringify(paid.body)}`);
}

/** A JSONL dataset uploaded through its presigned URL and verified: ready to train on. */
export async function readyDataset(http: HttpClient, token: string, fields: Record<string, unknown> = {}, content = Buffer.from('{"prompt":"hi","completion":"hello"}\n'.repeat(50))) {
  const created = await http.post(
    '/v1/datasets',
    { name: 'chats', format: 'jsonl', sizeBytes: content.length, sha256: createHash('sha256').update(content).digest('hex'), license: 'cc-by-4.0', ...fields },
    token,
  );
  if (created.status !== 201) throw new Error(`dataset create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const put = await fetch(created.body.upload.url, { method: 'PUT', headers: created.body.upload.headers ?? {}, body: content });
  if (!put.ok) throw new Error(`dataset upload failed: ${put.status}`);
  const completed = await http.post(`/v1/datasets/${created.body.dataset.id}/complete`, {}, token);
  if (completed.status !== 200) throw new Error(`dataset complete failed: ${completed.status} ${JSON.stringify(completed.body)}`);
  return completed.body as { id: string; status: string };
}
