import { Writable } from 'node:stream';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createTestDatabase, natsTestUrl, startTestS3, uniquePrefix, type TestDatabase, type TestS3 } from '@anneal/test/support';
import { DataSource } from 'typeorm';
import { createApp } from '../app.factory.js';
import { loadConfig, type AppConfig } from '../config/app-config.js';
import type { Clock } from '../core/clock/clock.js';
import { runMigrationsLocked } from '../core/database/data-source.js';
import { createLogger } from '../core/logging/logger.js';

export interface TestApp {
  app: NestExpressApplication;
  baseUrl: string;
  config: AppConfig;
  dataSource: DataSource;
  db: TestDatabase;
  /** Every JSON log line the app wrote, raw. */
  logLines: string[];
  http: HttpClient;
  /** The s3rver this app stores objects in, when started with `{ s3: true }`. */
  s3?: TestS3;
  close(): Promise<void>;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text.length > 0) parsed = JSON.parse(text);
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  get<T = any>(path: string, token?: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, { token, headers });
  }

  post<T = any>(path: string, body: unknown, token?: string, headers?: Record<string, string>) {
    return this.request<T>('POST', path, { token, body, headers });
  }
}

/** A configuration for tests: a fresh database, this run's NATS with a unique prefix. */
export function testConfig(databaseUrl: string, overrides: Record<string, string> = {}): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '5',
    NATS_URL: natsTestUrl(),
    NATS_SUBJECT_PREFIX: uniquePrefix('api'),
    AUTH_TOKEN_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
    ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    LOG_LEVEL: 'info',
    SCHEDULER_ENABLED: 'false',
    LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
    KEY_CREATION_RATE_LIMIT_PER_MINUTE: '10000',
    ...overrides,
  });
}

/** Boots the real API (migrations, NATS, HTTP on a free port) against its own database. */
export async function startTestApp(options: { overrides?: Record<string, string>; clock?: Clock; s3?: boolean } = {}): Promise<TestApp> {
  const db = await createTestDatabase('api');
  // `s3: true` starts an s3rver on a free port and points S3_* at it (own bucket); without it no object store is configured.
  const s3 = options.s3 ? await startTestS3() : undefined;
  const s3Overrides: Record<string, string> = s3
    ? { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_BUCKET: uniquePrefix('ds').toLowerCase().replace(/[^a-z0-9-]/g, '-'), S3_FORCE_PATH_STYLE: 'true' }
    : {};
  const config = testConfig(db.url, { ...s3Overrides, ...options.overrides });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger(config.LOG_LEVEL, sink);
  const app = await createApp({ config, logger, clock: options.clock });
  const dataSource = app.get(DataSource);
  await runMigrationsLocked(dataSource);
  // PORT is 0 (any free port) unless a test fixes it, e.g. to name its own URL in PUBLIC_API_URL.
  await app.listen(config.PORT, '127.0.0.1');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    baseUrl,
    config,
    dataSource,
    db,
    logLines,
    http: new HttpClient(baseUrl),
    s3,
    async close() {
      await app.close();
      await s3?.close();
      await db.drop();
    },
  };
}

let counter = 0;
/** Signs up a fresh user; returns their tokens and ids. */
export async function signUp(http: HttpClient, overrides: { email?: string; password?: string; name?: string } = {}) {
  counter += 1;
  const email = overrides.email ?? `user${counter}-${Date.now()}@example.com`;
  const password = overrides.password ?? 'correct horse battery staple';
  const response = await http.post('/v1/auth/signup', { email, password, name: overrides.name ?? `User ${counter}` });
  if (response.status !== 201) throw new Error(`signup failed: ${response.status} ${JSON.stringify(response.body)}`);
  const me = await http.get('/v1/me', response.body.accessToken);
  return { email, password, accessToken: response.body.accessToken as string, refreshToken: response.body.refreshToken as string, userId: me.body.id as string, orgId: me.body.actingOrgId as string };
}
