import { Worker } from 'node:worker_threads';
import type { Heartbeat } from '@anneal/providers';

/** One message to verify: the subject, the body, the key the node registered (and its DER form the first time). */
export interface VerifyItem {
  subject: string;
  data: Uint8Array;
  publicKey: string;
  spki?: Uint8Array;
}

export type VerifyOutcome = { ok: true; value: Heartbeat } | { ok: false; code: string };

/**
 * The worker: `openSignedNative` of native-envelope.ts (same steps, same codes) over the protocol
 * library's own decodeJson / signingInput / parseMessage / heartbeatSchema, loaded from its URL.
 * Plain JavaScript evaluated in the worker, so it runs the same from sources (tests) and dist.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
import(workerData.providersUrl).then((p) => {
  const keys = new Map();
  const isEnvelope = (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    return Object.keys(value).sort().join(',') === 'envelopeVersion,payload,sig,signer' && value.envelopeVersion === 1 &&
      typeof value.signer === 'string' && typeof value.sig === 'string' && /^[A-Za-z0-9_-]{80,100}$/.test(value.sig);
  };
  const open = (item) => {
    if (item.spki) keys.set(item.publicKey, createPublicKey({ key: Buffer.from(item.spki), format: 'der', type: 'spki' }));
    const key = keys.get(item.publicKey);
    if (!key) return { ok: false, code: 'malformed_envelope' };
    const json = p.decodeJson(item.data);
    if (!json.ok) return { ok: false, code: json.error.code };
    const envelope = json.value;
    if (!isEnvelope(envelope)) return { ok: false, code: 'malformed_envelope' };
    if (envelope.signer !== item.publicKey) return { ok: false, code: 'wrong_signer' };
    let input;
    try { input = p.signingInput(item.subject, envelope.payload); } catch { return { ok: false, code: 'malformed_envelope' }; }
    const sig = Buffer.from(envelope.sig, 'base64url');
    let valid = false;
    try { valid = sig.length === 64 && verify(null, input, key, sig); } catch { valid = false; }
    if (!valid) return { ok: false, code: 'bad_signature' };
    const parsed = p.parseMessage(p.heartbeatSchema, envelope.payload);
    return parsed.ok ? { ok: true, value: parsed.value } : { ok: false, code: parsed.error.code };
  };
  parentPort.on('message', ({ id, items }) => parentPort.postMessage({ id, out: items.map(open) }));
  parentPort.postMessage({ ready: true });
});
`;

interface Pending {
  resolve: (out: VerifyOutcome[]) => void;
  reject: (error: Error) => void;
}

/**
 * Heartbeat verification on worker threads (NODE_VERIFY_THREADS > 0): the consumer's CPU is mostly
 * Ed25519 verification, so more cores take more heartbeats a second. Batches go round-robin; each
 * worker answers its batches in order. Each worker is told a node's key once (DER).
 */
export class HeartbeatVerifyPool {
  readonly #workers: { worker: Worker; pending: Map<number, Pending>; knownKeys: Set<string> }[] = [];
  #next = 0;
  #id = 0;

  private constructor() {}

  static async start(size: number, providersUrl: string): Promise<HeartbeatVerifyPool> {
    const pool = new HeartbeatVerifyPool();
    await Promise.all(
      Array.from({ length: size }, async () => {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { providersUrl } });
        const slot = { worker, pending: new Map<number, Pending>(), knownKeys: new Set<string>() };
        await new Promise<void>((resolve, reject) => {
          const onReady = (message: { ready?: boolean }) => {
            if (message.ready) {
              worker.off('message', onReady);
              resolve();
            }
          };
          worker.on('message', onReady);
          worker.once('error', reject);
        });
        worker.on('message', (message: { id: number; out: VerifyOutcome[] }) => {
          const pending = slot.pending.get(message.id);
          slot.pending.delete(message.id);
          pending?.resolve(message.out);
        });
        worker.on('error', (error) => {
          for (const pending of slot.pending.values()) pending.reject(error);
          slot.pending.clear();
        });
        worker.unref();
        pool.#workers.push(slot);
      }),
    );
    return pool;
  }

  get size(): number {
    return this.#workers.length;
  }

  verify(items: VerifyItem[], spkiOf: (publicKey: string) => Uint8Array): Promise<VerifyOutcome[]> {
    const slot = this.#workers[this.#next]!;
    this.#next = (this.#next + 1) % this.#workers.length;
    const id = (this.#id += 1);
    for (const item of items) {
      if (!slot.knownKeys.has(item.publicKey)) {
        item.spki = spkiOf(item.publicKey);
        slot.knownKeys.add(item.publicKey);
      }
    }
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, items });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((slot) => slot.worker.terminate()));
  }
}
