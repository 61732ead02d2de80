import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const positiveInt = z.coerce.number().int().positive();

/**
 * Every environment variable the API reads, with its default. README.md's configuration table is
 * generated from the `describe` texts here (scripts/config-table.mjs), so the two never drift.
 */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development').describe('Runtime mode; production refuses development defaults for secrets.'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP port of the API and web app (0 = any free port).'),
    HOST: z.string().default('0.0.0.0').describe('Interface the HTTP server binds to.'),
    DATABASE_URL: z.string().url().describe('PostgreSQL connection URL. `npm start` starts an embedded server when unset or unreachable.'),
    DATABASE_POOL_SIZE: positiveInt.default(10).describe('Connections in the API\'s PostgreSQL pool.'),
    NATS_URL: z.string().default('nats://127.0.0.1:4222').describe('NATS server with JetStream. `npm start` starts nats-server when unreachable.'),
    NATS_SUBJECT_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
      .default('')
      .describe('Prefix for every NATS subject and stream name (tests use one per run).'),
    S3_ENDPOINT: z.string().url().optional().describe('S3-protocol endpoint; unset means AWS S3. `npm start` runs s3rver on loopback when unset.'),
    S3_REGION: z.string().default('us-east-1').describe('Region of the S3 bucket (any value for s3rver and most S3-compatible stores).'),
    S3_BUCKET: z.string().min(3).default('anneal').describe('Bucket for datasets and artifacts.'),
    S3_ACCESS_KEY_ID: z.string().optional().describe('S3 access key id (secret; never logged).'),
    S3_SECRET_ACCESS_KEY: z.string().optional().describe('S3 secret access key (secret; never logged).'),
    S3_FORCE_PATH_STYLE: bool.default(true).describe('Path-style S3 URLs (needed by s3rver and most S3-compatible stores).'),
    S3_CORS_ORIGINS: z.string().default('*').describe('Comma-separated origins browsers may upload to and download from (the CORS rule the API sets on a bucket it creates; `none` for no rule).'),
    DATASET_MULTIPART_THRESHOLD_BYTES: positiveInt.default(64 * 1024 * 1024).describe('Datasets at least this large upload in parts (multipart, one presigned URL per part); smaller ones with one presigned PUT.'),
    DATASET_PART_SIZE_BYTES: positiveInt.default(64 * 1024 * 1024).describe('Size of each multipart part (S3 wants at least 5 MiB except the last; grown automatically to stay within 10,000 parts).'),
    DATASET_MAX_SIZE_BYTES: positiveInt.default(1024 * 1024 * 1024 * 1024).describe('Largest dataset accepted (default 1 TiB).'),
    DATASET_UPLOAD_URL_TTL_SECONDS: positiveInt.max(604_800).default(21_600).describe('Lifetime of presigned dataset upload URLs (max 7 days, the S3 limit).'),
    DATASET_DOWNLOAD_URL_TTL_SECONDS: positiveInt.max(604_800).default(900).describe('Lifetime of presigned dataset download URLs handed to users.'),
    ATTEMPT_URL_TTL_SECONDS: positiveInt
      .min(60)
      .max(604_800)
      .default(900)
      .describe('Lifetime of the presigned URLs a training machine fetches with its attempt token right before each transfer (dataset, resume checkpoint, checkpoint/artifact/log uploads). S3 cannot revoke a presigned URL, so this is how long one can outlive its attempt; a transfer started before it expires completes.'),
    MODERATION_BLOCKED_TERMS: z
      .string()
      .default('csam,child porn,child sexual abuse,cp videos,underage nude,revenge porn,non consensual,deepfake nude,nudify,undress,bioweapon,nerve agent,ransomware,keylogger,credit card dump,cvv dump,stolen credentials,leaked passwords,doxx,doxxing')
      .describe('Comma-separated terms that reject a dataset or job when they appear as words in its name, file names or configuration.'),
    MODERATION_DISALLOWED_BASE_MODELS: z.string().default('').describe('Comma-separated base model ids (Hugging Face style, case-insensitive; a trailing `*` matches a prefix) that jobs may not fine-tune.'),
    MODERATION_ALLOWED_LICENSES: z
      .string()
      .default('own-data,apache-2.0,mit,bsd-2-clause,bsd-3-clause,cc0-1.0,cc-by-4.0,cc-by-sa-4.0,odc-by,odbl,pddl,cdla-permissive-2.0,cdla-sharing-1.0,unlicense')
      .describe('Comma-separated licences (SPDX ids, case-insensitive; `own-data` = data the customer owns) a dataset may declare; any other or none fails moderation.'),
    AUTH_TOKEN_SECRET: z.string().min(32, 'at least 32 characters').describe('HMAC key that signs access tokens (secret). `npm start` generates one under .anneal/.'),
    ENCRYPTION_KEYS: z
      .string()
      .regex(/^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+)*$/, 'comma-separated keyId:base64key pairs, primary first')
      .describe('AES-256-GCM keys for secrets at rest (TOTP secrets, provider credentials, heartbeat keys, waiting cloud assignments): `id:base64(32 bytes)`, primary first, older keys after it for rotation.'),
    ACCESS_TOKEN_TTL_SECONDS: positiveInt.default(900).describe('Lifetime of an access token.'),
    REFRESH_TOKEN_TTL_DAYS: positiveInt.default(30).describe('Lifetime of a refresh token (sliding: each refresh issues a new one).'),
    LOGIN_RATE_LIMIT_PER_MINUTE: positiveInt.default(10).describe('Login, sign-up and 2FA attempts per client IP per minute before 429.'),
    KEY_CREATION_RATE_LIMIT_PER_MINUTE: positiveInt.default(20).describe('API keys created per client per minute before 429.'),
    BODY_LIMIT_BYTES: positiveInt.default(1_048_576).describe('Largest accepted JSON request body.'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level of the JSON logs.'),
    TRUST_PROXY: bool.default(false).describe('Take the client IP from X-Forwarded-For (behind a load balancer).'),
    WEB_DIST_DIR: z.string().optional().describe('Directory of the built web app to serve at `/` (defaults to apps/web/dist when it exists).'),
    MIGRATIONS_RUN: bool.default(true).describe('Run pending migrations at boot (under an advisory lock, safe with many replicas).'),
    SCHEDULER_ENABLED: bool.default(true).describe('Run the scheduler loop and crons in this process.'),
    ALLOW_SIMULATED_NODES: bool.default(false).describe('Accept community nodes that report simulated GPUs (on in `npm start`).'),
    DEMO_SEED: bool.default(false).describe('Create the demo admin and customer on first start (on in `npm start`).'),
    DEMO_ADMIN_PASSWORD: z.string().min(10).optional().describe('Password of the demo admin (admin@anneal.local); `npm start` generates it (secret).'),
    DEMO_CUSTOMER_PASSWORD: z.string().min(10).optional().describe('Password of the demo customer (customer@anneal.local); `npm start` generates it (secret).'),
    DEMO_PROVIDER_PASSWORD: z.string().min(10).optional().describe('Password of the demo provider (provider@anneal.local, provider role on); `npm start` generates it (secret).'),
    JOB_OUTPUT_RETENTION_DAYS: positiveInt.default(7).describe('Days a finished job\'s artifacts stay downloadable before they are deleted.'),
    PLATFORM_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(2000).describe('Platform fee in basis points of each job\'s charge (2000 = 20%).'),
    PAYMENT_PROCESSOR: z.enum(['test']).default('test').describe('Payment processor for top-ups: `test` is the built-in processor that signs webhooks like a real one (no card data ever reaches Anneal).'),
    PAYMENT_WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional().describe('Secret that signs payment webhooks (secret). `npm start` generates one; required in production; elsewhere a random one per process when unset.'),
    TOP_UP_MAX_USD: positiveInt.default(10_000).describe('Largest single top-up in USD; larger amounts are refused (400).'),
    PAYOUT_DISPUTE_WINDOW_HOURS: positiveInt.default(168).describe('Provider earnings become payable after this many hours (the dispute window; default 7 days).'),
    PAYOUT_MINIMUM_USD: z.coerce.number().min(0).default(10).describe('Smallest provider payout in USD; smaller payable balances wait for the next run.'),
    PLATFORM_NKEY_SEED: z
      .string()
      .regex(/^SU[A-Z2-7]{56}$/, "an nkey user seed ('SU…')")
      .optional()
      .describe('The platform\'s nkey seed: signs assignments and control messages to community nodes (secret). Required in production; `npm start` generates one; elsewhere a fresh one per process.'),
    PUBLIC_API_URL: z.string().url().optional().describe('The API URL nodes and consoles use (shown in the `anneal-agent register` command; defaults to the URL of the request). Required for GCP and RunPod: their machines join at this URL, so it must be reachable from them.'),
    NODE_NATS_URL: z.string().optional().describe('NATS URL(s) handed to nodes (community hosts and cloud machines) at registration; defaults to NATS_URL.'),
    NODE_JOIN_TOKEN_TTL_MINUTES: positiveInt.default(60).describe('Lifetime of a node join token.'),
    GCP_PROJECT: z.string().optional().describe('GCP project for cloud GPU offers; GCP is off unless this, GCP_ZONES and credentials are set.'),
    GCP_ZONES: z.string().optional().describe('Comma-separated GCP zones offers come from (e.g. `us-central1-a,europe-west4-a`).'),
    GCP_CREDENTIALS_JSON: z.string().optional().describe('GCP credentials as JSON: a service-account key file or `{"type":"access_token","accessToken":"…"}` (secret; never logged). Admins may store them encrypted instead (`PUT /v1/admin/providers/gcp`).'),
    RUNPOD_API_KEY: z.string().optional().describe('RunPod API key (secret; never logged); RunPod is off unless set here or stored by an admin.'),
    RUNPOD_API_URL: z.string().url().optional().describe('RunPod REST API base URL (default https://rest.runpod.io/v1).'),
    RUNPOD_POD_GPU_TYPES: z.string().optional().describe('RunPod GPU types offered as pods with their prices, JSON: `[{"gpuTypeId":"NVIDIA GeForce RTX 4090","onDemandMicrosPerGpuHour":690000}]`.'),
    QUOTE_TTL_SECONDS: positiveInt.default(900).describe('How long a quote from POST /v1/estimates stays valid for a submission to reference.'),
    BENCHMARK_PRIOR_IMPORT: bool.default(true).describe('At boot, import the public step-time tables (libs/benchmarks/data/step-times) when the database has no public benchmark rows yet.'),
    BENCHMARK_TABLES_DIR: z.string().optional().describe('Directory of the public step-time tables to import (defaults to libs/benchmarks/data/step-times in the repository).'),
    ESTIMATE_OFFERS_CACHE_MS: positiveInt.default(1000).describe('How long POST /v1/estimates reuses one listing of all offers before listing again (refreshed in the background).'),
    JOB_LOG_RETENTION_DAYS: positiveInt.default(90).describe('Days job log lines and metric series are kept; older ones are deleted by the retention cron.'),
    NETWORK_IDENTIFIER_RETENTION_DAYS: positiveInt.default(90).describe('Days raw IP addresses and user agents stay on audit entries and sessions before they are nulled (the entries are kept), and sent emails before they are deleted.'),
    DATA_EXPORT_TTL_DAYS: positiveInt.default(7).describe('Days a personal data export (GET /v1/me/export) stays downloadable before its archive is deleted.'),
    DISPUTE_WINDOW_DAYS: positiveInt.default(14).describe('Days after an attempt ended during which its customer may open a dispute on it.'),
    DISPUTE_OFFLINE_THRESHOLD_SECONDS: positiveInt.default(120).describe('A node out of contact at least this long before a disputed attempt ended makes the suggestion a full refund.'),
    DISPUTE_SLOW_FACTOR: z.coerce.number().min(1).default(2).describe('Measured step time at least this multiple of the benchmark p90 makes the dispute suggestion a proportional partial refund.'),
    MODERATION_FLAG_MIN_REJECTIONS: positiveInt.default(3).describe('An account needs at least this many moderation rejections (last 90 days) before it can be flagged for review.'),
    MODERATION_FLAG_REJECTION_RATE: z.coerce.number().min(0).max(1).default(0.5).describe('Share of an account\'s moderation decisions (last 90 days) that were rejections at which it is flagged for admin review (GET /v1/admin/users?flagged=true).'),
  })
  .superRefine((config, ctx) => {
    if (config.NODE_ENV === 'production' && !config.PAYMENT_WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['PAYMENT_WEBHOOK_SECRET'], message: 'is required in production' });
    }
    if (config.NODE_ENV === 'production' && config.AUTH_TOKEN_SECRET.startsWith('dev-')) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_TOKEN_SECRET'], message: 'a development secret cannot be used in production' });
    }
  });

export type AppConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once at boot. A bad value stops the process with the variable's name. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(config)';
        const message = issue.code === 'invalid_type' && present[name] === undefined ? 'is required' : issue.message;
        return `${name}: ${message}`;
      }),
    );
  }
  return result.data;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
