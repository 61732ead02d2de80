import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTestDatabase, expectEventually, freePort, natsTestUrl, startTestS3, uniquePrefix, type TestDatabase, type TestS3 } from '../../support/index.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
/** The built API; ANNEAL_E2E_API_MAIN points at another build (e.g. one made while apps/api/dist is stale). */
export const apiMain = process.env.ANNEAL_E2E_API_MAIN ?? resolve(root, 'apps', 'api', 'dist', 'main.js');
export const webDist = resolve(root, 'apps', 'web', 'dist');

export interface WebStack {
  baseUrl: string;
  db: TestDatabase;
  s3: TestS3;
  natsPrefix: string;
  /** Everything the API printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** The built API serving the built web app, on a free port, against a fresh database and S3. */
export async function startWebStack(label: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<WebStack> {
  for (const built of [apiMain, resolve(webDist, 'index.html')]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: build it first (apps/api: npx tsc -p tsconfig.build.json; apps/web: npx vite build).`);
  }
  const db = await createTestDatabase(label);
  const s3 = await startTestS3();
  const port = await freePort();
  const natsPrefix = uniquePrefix(label);
  const bucket = `web-${natsPrefix.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 60);
  await allowBrowserUploads(s3, bucket);
  const child: ChildProcess = spawn(process.execPath, [apiMain], {
    env: {
      PATH: process.env.PATH,
      TZ: 'UTC',
      NODE_ENV: 'test',
      ALLOW_SIMULATED_NODES: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      NATS_URL: natsTestUrl(),
      NATS_SUBJECT_PREFIX: natsPrefix,
      AUTH_TOKEN_SECRET: 'web-e2e-secret-0123456789abcdef0123456789',
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      PAYMENT_WEBHOOK_SECRET: 'web-e2e-webhook-secret-0123456789',
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_BUCKET: bucket,
      WEB_DIST_DIR: webDist,
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await s3.close();
    await db.drop();
  };
  try {
    await expectEventually(async () => {
      if (child.exitCode !== null) throw new Error(`API exited ${child.exitCode}: ${output}`);
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status !== 200) throw new Error(`readyz ${response.status}`);
    }, 60_000, 100);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, db, s3, natsPrefix, output: () => output, stop };
}

/**
 * Browsers PUT datasets straight to storage, cross-origin: the bucket needs a CORS rule allowing
 * PUT from the consoles and exposing ETag (multipart). Made here before the API starts (the API
 * creates a missing bucket, but sets no CORS rule).
 */
async function allowBrowserUploads(s3: TestS3, bucket: string): Promise<void> {
  const { S3Client, CreateBucketCommand, PutBucketCorsCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PUT', 'GET', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 }] },
      }),
    );
  } finally {
    client.destroy();
  }
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 secret, as an authenticator app computes it. */
export function totp(secretBase32: string, at: number = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secretBase32.replace(/=+$/, '').toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const hmac = createHmac('sha1', bytes).update(counter).digest();
  const offset = (hmac[hmac.length - 1] ?? 0) & 0x0f;
  const code = (hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}
