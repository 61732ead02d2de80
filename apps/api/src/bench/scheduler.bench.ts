// Scheduler benchmark (`npm run bench -- scheduler`): queued jobs placed onto simulated community
// nodes by the real scheduler of API replicas booted in-process, against a fresh PostgreSQL
// database and the real NATS/JetStream (unique subject prefix) per phase, with object storage on an
// in-process s3rver. The fleet (scheduler-fleet.ts, a worker thread) heartbeats for every node and
// answers assignments with node-signed accepted / started / finished events, as the agent does.
// Phase 1: a backlog of queued jobs onto the fleet with one replica (placements/s, double placements).
// Phase 2: p99 submit → accepted at a steady 100 submissions/s. Phase 3: placements/s with 1, 2 and
// 3 replicas on the same database and NATS prefix. Every phase has a time limit; the whole run stops
// everything it started. Writes its BENCHMARKS.md section.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { planJobHold, planTopUp } from '@anneal/billing';
import { createHeartbeatKey, type SecretBox } from '@anneal/providers';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pg from 'pg';
import S3rver from 's3rver';
import { DataSource } from 'typeorm';
import { createApp } from '../app.factory.js';
import { loadConfig, type AppConfig } from '../config/app-config.js';
import { SECRET_BOX } from '../core/crypto/secret-box.provider.js';
import { runMigrationsLocked } from '../core/database/data-source.js';
import { createLogger } from '../core/logging/logger.js';
import { ObjectStorage } from '../core/storage/object-storage.js';
import { BillingService } from '../modules/billing/billing.service.js';
import { Job } from '../modules/jobs/entities/job.entity.js';
import { AttemptLifecycle } from '../modules/jobs/attempt-lifecycle.service.js';
import { COMPUTE_PORT, DATASET_PORT, ESTIMATE_PORT, OFFER_PORT, STORAGE_PORT } from '../modules/jobs/jobs.ports.js';
import { SchedulerService } from '../modules/jobs/scheduler.service.js';
import { QueueSignal } from '../modules/jobs/queue-signal.js';
import { newJob } from '../modules/jobs/new-job.js';
import { NodesConsumer } from '../modules/nodes/nodes.consumer.js';
import { createNativeNodeKeys } from '../modules/nodes/native-envelope.js';
import { machineLine, percentile, writeBenchmarkSection } from './bench-doc.js';
import { Fleet, type FleetNode, type FleetStats } from './scheduler-fleet.js';

const NODES = Number(process.env.BENCH_SCHEDULER_NODES ?? 5_000);
const JOBS = Number(process.env.BENCH_SCHEDULER_JOBS ?? 10_000);
/** How long a simulated attempt trains before `finished`. */
const RUN_MS = Number(process.env.BENCH_SCHEDULER_RUN_MS ?? 1_000);
const BACKLOG_LIMIT_S = Number(process.env.BENCH_SCHEDULER_BACKLOG_SECONDS ?? 40);
const RATE_PER_S = Number(process.env.BENCH_SCHEDULER_RATE ?? 100);
const RATE_SECONDS = Number(process.env.BENCH_SCHEDULER_RATE_SECONDS ?? 10);
/** Nodes in the steady-load phase (see REPLICA_NODES for why fewer than NODES). */
const RATE_NODES = Number(process.env.BENCH_SCHEDULER_RATE_NODES ?? 1_000);
/** A phase that has not finished after this long is abandoned (reported as such) so the run stays bounded. */
const PHASE_LIMIT_MS = Number(process.env.BENCH_SCHEDULER_PHASE_LIMIT_MS ?? 150_000);
const REPLICA_COUNTS = (process.env.BENCH_SCHEDULER_REPLICAS ?? '1,2,3').split(',').map(Number);
const REPLICA_WINDOW_S = Number(process.env.BENCH_SCHEDULER_REPLICA_SECONDS ?? 12);
const REPLICA_JOBS = Number(process.env.BENCH_SCHEDULER_REPLICA_JOBS ?? 3_000);
/** Fewer nodes in the replica comparison: every replica verifies every node's heartbeats, which would otherwise swamp it here. */
const REPLICA_NODES = Number(process.env.BENCH_SCHEDULER_REPLICA_NODES ?? 1_000);
const PHASES = (process.env.BENCH_SCHEDULER_PHASES ?? 'backlog,rate,replicas').split(',');
/** The whole run is abandoned (exit 1, everything it started is dropped with the process) past this. */
const HARD_LIMIT_MS = Number(process.env.BENCH_SCHEDULER_HARD_LIMIT_MS ?? 420_000);

const RECIPE = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora' as const, precision: 'bf16', quantization: 'none', sequenceLength: 512, batchSize: 4, gradientAccumulation: 1, steps: 100, validationPrompts: [] as string[] };
const HOLD_MICROS = 2_000_000n; // $2 per job: far above what a few seconds of an RTX 4090 cost

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const progress = (message: string) => process.stderr.write(`[scheduler bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

interface S3 {
  endpoint: string;
  close(): Promise<void>;
}

async function startS3(): Promise<S3> {
  const directory = mkdtempSync(join(tmpdir(), 'anneal-bench-s3-'));
  const port = await freePort();
  const server = new S3rver({ address: '127.0.0.1', port, directory, silent: true });
  await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

interface Stage {
  calls: number;
  totalMs: number;
  /** Calls whose result was `false` (a node reservation lost to another job). */
  refused: number;
}

/**
 * Wall time spent in the scheduler's collaborators, by wrapping the methods of the live instances
 * (the code itself is unchanged). Durations of concurrent calls add up: this is worker time, which
 * is what bounds throughput with a fixed number of placement workers.
 */
class Stages {
  readonly stages = new Map<string, Stage>();

  wrap(target: object, method: string, name: string): void {
    const holder = target as Record<string, unknown>;
    const original = holder[method];
    if (typeof original !== 'function') throw new Error(`cannot time ${name}: no method ${method}`);
    const bound = (original as (...args: unknown[]) => unknown).bind(target);
    holder[method] = (...args: unknown[]) => {
      const t0 = now();
      const record = (value: unknown) => {
        const stage = this.stages.get(name) ?? { calls: 0, totalMs: 0, refused: 0 };
        stage.calls += 1;
        stage.totalMs += now() - t0;
        if (value === false) stage.refused += 1;
        this.stages.set(name, stage);
      };
      const result = bound(...args);
      if (result instanceof Promise) {
        return result.then(
          (value) => {
            record(value);
            return value;
          },
          (error: unknown) => {
            record(undefined);
            throw error;
          },
        );
      }
      record(result);
      return result;
    };
  }

  /** Times the scheduler's path on one replica. */
  static attach(replica: Replica): Stages {
    const stages = new Stages();
    const get = <T>(token: unknown) => replica.app.get(token as never, { strict: false }) as T;
    const scheduler = replica.app.get(SchedulerService);
    stages.wrap(scheduler, 'tick', 'scheduler round (claim up to 200, decide, reserve and write in one transaction, then start provisioning)');
    stages.wrap(scheduler, 'sweep', 'scheduler sweep (once a second)');
    stages.wrap(get(COMPUTE_PORT), 'attemptsOnLostNodes', 'sweep: live attempts on lost nodes (one query)');
    stages.wrap(scheduler, 'enforceLimits', 'sweep: cancels, budget caps and durations (one query, then each attempt concerned)');
    stages.wrap(get(OFFER_PORT), 'list', 'list offers (at most every 500 ms)');
    stages.wrap(get(DATASET_PORT), 'trainableMany', 'datasets of a round (rows + moderation, one query each)');
    stages.wrap(get(ESTIMATE_PORT), 'estimate', 'estimate a recipe on every matching offer (once per recipe and listing)');
    const compute = get<object>(COMPUTE_PORT);
    stages.wrap(compute, 'reserve', "reserve a round's nodes (one statement)");
    stages.wrap(scheduler, 'writePlacements', "write a round's attempts and transitions");
    stages.wrap(scheduler, 'provision', 'provision one attempt (assignment built, signed, published; wait for `accepted`)');
    stages.wrap(compute, 'provision', 'provider call: publish the assignment, wait for `accepted`');
    stages.wrap(compute, 'openAttemptEvent', 'verify one attempt event (consumer)');
    const lifecycle = replica.app.get(AttemptLifecycle);
    stages.wrap(lifecycle, 'handle', 'apply one attempt event (consumer)');
    stages.wrap(lifecycle, 'endAttempts', 'end attempts (a batch: one transaction, nodes freed together, settled together)');
    stages.wrap(lifecycle, 'settleMany', 'settle ended attempts in the ledger (a batch)');
    stages.wrap(replica.app.get(NodesConsumer), 'handle', 'heartbeat received (verify + state)');
    return stages;
  }
}

interface Replica {
  app: NestExpressApplication;
  config: AppConfig;
  dataSource: DataSource;
}

/** Clusters not stopped yet (a phase abandoned at its time limit leaves one; the run stops it at the end). */
const liveClusters = new Set<Cluster>();

/** One phase's world: a fresh database, a NATS prefix, replicas of the API, the fleet. */
class Cluster {
  readonly replicas: Replica[] = [];
  fleet?: Fleet;
  nodes: FleetNode[] = [];
  customerOrgId = randomUUID();
  providerOrgId = randomUUID();
  datasetId = randomUUID();
  private readonly platform = createNativeNodeKeys();
  private readonly prefix: string;
  private readonly database: string;

  constructor(
    readonly label: string,
    private readonly s3: S3,
    private readonly pgUrl: string,
    private readonly natsUrl: string,
  ) {
    liveClusters.add(this);
    const tag = randomBytes(4).toString('hex');
    this.prefix = `bsched${label.replace(/[^a-z0-9]/gi, '')}${tag}`;
    this.database = `bench_scheduler_${label.replace(/[^a-z0-9]/gi, '')}_${tag}`;
  }

  get main(): Replica {
    return this.replicas[0]!;
  }

  private databaseUrl(): string {
    const url = new URL(this.pgUrl);
    url.pathname = `/${this.database}`;
    return url.toString();
  }

  async addReplica(): Promise<Replica> {
    if (this.replicas.length === 0) {
      const admin = new pg.Client({ connectionString: this.pgUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${this.database}"`);
      await admin.end();
    }
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: this.databaseUrl(),
      DATABASE_POOL_SIZE: '10',
      NATS_URL: this.natsUrl,
      NATS_SUBJECT_PREFIX: this.prefix,
      AUTH_TOKEN_SECRET: 'bench-scheduler-secret-0123456789abcdef0123456789',
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      LOG_LEVEL: 'warn',
      SCHEDULER_ENABLED: 'false', // switched on once everything is seeded
      ALLOW_SIMULATED_NODES: 'true',
      BENCHMARK_PRIOR_IMPORT: 'false',
      PLATFORM_NKEY_SEED: this.platform.seed,
      S3_ENDPOINT: this.s3.endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_BUCKET: this.prefix.toLowerCase(),
      S3_FORCE_PATH_STYLE: 'true',
    });
    const app = await createApp({ config, logger: createLogger(config.LOG_LEVEL) });
    const dataSource = app.get(DataSource);
    if (this.replicas.length === 0) await runMigrationsLocked(dataSource);
    await app.init();
    const replica = { app, config, dataSource };
    this.replicas.push(replica);
    return replica;
  }

  /** The customer, the provider, one ready moderated dataset in S3, the nodes (online, listed, simulated). */
  async seedWorld(nodeCount: number): Promise<void> {
    const db = this.main.dataSource;
    await db.query(`INSERT INTO organizations (id, name, personal, provider_enabled, created_at) VALUES ($1, 'bench customer', false, false, now()), ($2, 'bench provider', false, true, now())`, [
      this.customerOrgId,
      this.providerOrgId,
    ]);
    const storage = this.main.app.get(ObjectStorage);
    const storageKey = `datasets/${this.customerOrgId}/${this.datasetId}/data.jsonl`;
    const body = Buffer.from(Array.from({ length: 200 }, (_, i) => JSON.stringify({ prompt: `question ${i}`, completion: `answer ${i}` })).join('\n'));
    await storage.put(storageKey, body);
    const head = await storage.head(storageKey);
    await db.query(
      `INSERT INTO datasets (id, org_id, created_by, name, format, size_bytes, sha256, storage_key, status, upload_kind, sample_count, token_count_estimate,
         ttl_days, delete_after_training, encryption, verified_etag, created_at, expires_at, completed_at)
       VALUES ($1, $2, $3, 'bench dataset', 'jsonl', $4, $5, $6, 'ready', 'single', 200, 20000, 30, false, 'AES256', $7, now(), now() + interval '30 days', now())`,
      [this.datasetId, this.customerOrgId, randomUUID(), body.length, randomBytes(32).toString('hex'), storageKey, head?.etag ?? null],
    );
    await db.query(`INSERT INTO moderation_results (id, subject_type, subject_id, org_id, outcome, reasons, created_at) VALUES ($1, 'dataset', $2, $3, 'passed', '[]', now())`, [
      randomUUID(),
      this.datasetId,
      this.customerOrgId,
    ]);
    this.nodes = Array.from({ length: nodeCount }, () => ({ nodeId: randomUUID() as string, ...createNativeNodeKeys(), heartbeatKey: createHeartbeatKey() }));
    const secretBox = this.main.app.get<SecretBox>(SECRET_BOX);
    await db.query(
      `INSERT INTO nodes (id, org_id, public_key, node_token_hash, heartbeat_key_sealed, hostname, agent_version, gpus, gpu_model_id, gpu_name, gpu_count, vram_mb,
         price_micros_per_gpu_hour, region, simulated, listed, draining, state, state_changed_at, last_heartbeat_at, created_at)
       SELECT id, $2, pk, NULL, sealed, 'bench', '0.1.0', '[]', 'rtx-4090', 'NVIDIA GeForce RTX 4090', 1, 24564, 450000, 'eu-west', true, true, false, 'online', now(), now(), now()
         FROM unnest($1::uuid[], $3::text[], $4::text[]) AS v(id, pk, sealed)`,
      [this.nodes.map((node) => node.nodeId), this.providerOrgId, this.nodes.map((node) => node.publicKey), this.nodes.map((node) => secretBox.seal(node.heartbeatKey))],
    );
    // Registered through this replica (as `POST /v1/nodes/join` does); replicas booted later load them from the table.
    const consumer = this.main.app.get(NodesConsumer);
    for (const node of this.nodes) consumer.register({ id: node.nodeId, org_id: this.providerOrgId, public_key: node.publicKey, simulated: true, heartbeatKey: node.heartbeatKey });
    const billing = this.main.app.get(BillingService);
    await billing.ensureOrgAccounts(this.customerOrgId);
    await billing.store.createTransfers([planTopUp({ orgId: this.customerOrgId, paymentId: `bench_${this.prefix}`, amountMicros: 1_000_000_000_000n })], new Date());
  }

  private jobRow(jobId: string, holdId: string, at: Date): Job {
    return newJob(
      {
        id: jobId,
        orgId: this.customerOrgId,
        createdBy: randomUUID(),
        name: 'Llama-3.2-1B lora',
        recipe: { ...RECIPE, validationPrompts: [] },
        datasetId: this.datasetId,
        resources: { gpuModel: 'RTX 4090', gpuCount: 1 },
        providerAllowlist: ['community'],
        maxPriceMicrosPerGpuHour: null,
        budgetCapMicros: null,
        holdMicros: HOLD_MICROS,
        holdId,
        submittedQuote: null,
        steps: RECIPE.steps,
        maxDurationSeconds: 3_600,
        maxAttempts: 3,
        idempotencyKey: null,
        requestHash: 'bench',
      },
      at,
    );
  }

  private async insertJobs(jobs: Job[]): Promise<void> {
    await this.main.dataSource.transaction(async (manager) => {
      await manager.insert(Job, jobs);
      await manager.query(
        `INSERT INTO job_events (id, job_id, attempt_id, at, type, from_status, to_status, message, data)
         SELECT gen_random_uuid(), id, NULL, at, 'submitted', NULL, 'queued', 'Submitted.', '{}' FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)`,
        [jobs.map((job) => job.id), jobs.map((job) => job.createdAt)],
      );
    });
  }

  /** One queued job as a submission leaves it: a real ledger hold (BillingService), then the row and its `submitted` event. */
  async submitJob(): Promise<{ id: string; createdAtMs: number }> {
    const billing = this.main.app.get(BillingService);
    const jobId = randomUUID();
    const hold = await billing.placeJobHold({ orgId: this.customerOrgId, jobId, quoteUpperMicros: HOLD_MICROS, budgetCapMicros: null });
    const at = new Date();
    await this.insertJobs([this.jobRow(jobId, hold.holdId, at)]);
    // As `JobsService.submit` does after its commit: this replica's scheduler runs a round now.
    this.main.app.get(QueueSignal).raise();
    return { id: jobId, createdAtMs: at.getTime() };
  }

  /** A backlog of queued jobs, in batches: the same ledger holds (one `createTransfers` per batch), then the rows. Returns jobs/s. */
  async submitBacklog(count: number, batch = 500): Promise<number> {
    const billing = this.main.app.get(BillingService);
    const t0 = now();
    for (let done = 0; done < count; done += batch) {
      const at = new Date();
      const plans = Array.from({ length: Math.min(batch, count - done) }, () => {
        const jobId = randomUUID();
        return { jobId, plan: planJobHold({ orgId: this.customerOrgId, jobId, quoteUpperMicros: HOLD_MICROS, budgetCapMicros: null }) };
      });
      const outcomes = await billing.store.createTransfers(plans.map((p) => p.plan.transfer), at);
      const refused = outcomes.filter((outcome) => outcome.result !== 'ok');
      if (refused.length > 0) throw new Error(`holds refused: ${refused[0]!.result}`);
      await this.insertJobs(plans.map((p) => this.jobRow(p.jobId, p.plan.holdId, at)));
    }
    return count / ((now() - t0) / 1000);
  }

  async startFleet(): Promise<void> {
    this.fleet = await Fleet.start({ natsUrl: this.natsUrl, prefix: this.prefix, nodes: this.nodes, platformPublicKey: this.platform.publicKey, runMs: RUN_MS });
    // Every replica must have heard every node (a replica learns a node from its heartbeats).
    const deadline = now() + 45_000;
    for (const [i, replica] of this.replicas.entries()) {
      const consumer = replica.app.get(NodesConsumer);
      for (;;) {
        const offline = this.nodes.filter((node) => consumer.liveState(node.nodeId) !== 'online').length;
        if (offline === 0) break;
        if (now() > deadline) throw new Error(`replica ${i + 1} still sees ${offline} of ${this.nodes.length} nodes not online after 45 s`);
        await sleep(200);
      }
    }
  }

  enableSchedulers(): void {
    for (const replica of this.replicas) replica.config.SCHEDULER_ENABLED = true;
  }

  async stopFleet(): Promise<FleetStats | null> {
    const fleet = this.fleet;
    this.fleet = undefined;
    return fleet ? fleet.stop().catch(() => null) : null;
  }

  /** Schedulers off, and the rounds in flight finished (bounded). */
  async quiesce(): Promise<void> {
    for (const replica of this.replicas) replica.config.SCHEDULER_ENABLED = false;
    const deadline = now() + 10_000;
    for (const replica of this.replicas) {
      const scheduler = replica.app.get(SchedulerService) as unknown as { placing: boolean };
      while (scheduler.placing && now() < deadline) await sleep(50);
    }
  }

  async stop(): Promise<FleetStats | null> {
    liveClusters.delete(this);
    await this.quiesce();
    const stats = await this.stopFleet();
    for (const replica of this.replicas.reverse()) await replica.app.close().catch((error: unknown) => progress(`closing a replica: ${String(error)}`));
    const admin = new pg.Client({ connectionString: this.pgUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${this.database}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    const nc = await connect({ servers: this.natsUrl });
    const jsm = await jetstreamManager(nc);
    const streamPrefix = this.prefix.toUpperCase();
    for await (const info of jsm.streams.list()) {
      if (info.config.name.toUpperCase().startsWith(streamPrefix)) await jsm.streams.delete(info.config.name).catch(() => undefined);
    }
    await nc.close();
    return stats;
  }
}

interface Counts {
  accepted: number;
  succeeded: number;
  attempts: number;
  /** Attempts whose seconds are settled in the ledger. */
  settled: number;
}

async function counts(db: DataSource): Promise<Counts> {
  const [row] = await db.query(
    `SELECT (SELECT count(*)::int FROM attempts WHERE instance_id IS NOT NULL) AS accepted,
            (SELECT count(*)::int FROM jobs WHERE status = 'succeeded') AS succeeded,
            (SELECT count(*)::int FROM attempts) AS attempts,
            (SELECT count(*)::int FROM attempts WHERE billable_seconds IS NOT NULL) AS settled`,
  );
  return row as Counts;
}

async function transactionCounters(db: DataSource): Promise<{ commits: number; rollbacks: number }> {
  const [row] = await db.query(`SELECT xact_commit::bigint::float8 AS commits, xact_rollback::bigint::float8 AS rollbacks FROM pg_stat_database WHERE datname = current_database()`);
  return { commits: Number(row.commits), rollbacks: Number(row.rollbacks) };
}

interface Integrity {
  nodeOverlaps: number;
  jobOverlaps: number;
  attemptsPerJobMax: number;
  endReasons: Record<string, number>;
  settled: number;
  ended: number;
  /** The most frequent reasons an attempt failed to start (job events provisioning → matching/queued). */
  failures: { message: string; n: number }[];
}

/** No node ever had two attempts alive at once, nor a job two; how attempts ended; settlement. */
async function integrity(db: DataSource): Promise<Integrity> {
  // An attempt holds its node from the reservation (the job's `provisioning` event, written in the
  // transaction right after the node row is reserved) until it ends (`ended_at`, taken before the
  // node is released). `attempts.created_at` is taken before that transaction starts, so a slow
  // transaction could make it look older than a neighbour that came and went in between.
  const overlap = (column: string) =>
    db.query(
      `WITH r AS (SELECT attempt_id, min(at) AS reserved_at FROM job_events WHERE to_status = 'provisioning' AND attempt_id IS NOT NULL GROUP BY attempt_id),
            a AS (SELECT t.id, t.${column} AS owner, r.reserved_at AS s, GREATEST(r.reserved_at, COALESCE(t.ended_at, 'infinity')) AS e FROM attempts t JOIN r ON r.attempt_id = t.id)
       SELECT count(*)::int AS n FROM a x JOIN a y ON x.owner = y.owner AND x.id < y.id WHERE tstzrange(x.s, x.e, '[)') && tstzrange(y.s, y.e, '[)')`,
    );
  const [[nodes], [jobs], [perJob], reasons, [settled], failures] = await Promise.all([
    overlap('node_id'),
    overlap('job_id'),
    db.query(`SELECT COALESCE(max(n), 0)::int AS n FROM (SELECT count(*) AS n FROM attempts GROUP BY job_id) x`),
    db.query(`SELECT COALESCE(end_reason, 'live') AS reason, count(*)::int AS n FROM attempts GROUP BY 1`),
    db.query(`SELECT count(*) FILTER (WHERE billable_seconds IS NOT NULL)::int AS settled, count(*) FILTER (WHERE status = 'ended')::int AS ended FROM attempts`),
    db.query(
      `SELECT regexp_replace(message, '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>', 'g') AS message, count(*)::int AS n FROM job_events
        WHERE from_status = 'provisioning' AND to_status IN ('matching', 'queued') GROUP BY 1 ORDER BY 2 DESC LIMIT 3`,
    ),
  ]);
  return {
    nodeOverlaps: nodes.n,
    jobOverlaps: jobs.n,
    attemptsPerJobMax: perJob.n,
    endReasons: Object.fromEntries((reasons as { reason: string; n: number }[]).map((r) => [r.reason, r.n])),
    settled: settled.settled,
    ended: settled.ended,
    failures: failures as { message: string; n: number }[],
  };
}

/**
 * Jobs' creation → their first event matching `where` (an SQL condition on job_events `e`), ms:
 * `to_status = 'provisioning'` is the job assigned (attempt committed, node reserved, assignment
 * going out); `type = 'accepted'` is the node's answer as stored by the attempt-events consumer.
 */
async function submitTo(db: DataSource, jobIds: string[], where: string): Promise<{ latencies: number[]; missing: number }> {
  const rows: { ms: number | null }[] = await db.query(
    `SELECT (EXTRACT(EPOCH FROM (SELECT min(e.at) FROM job_events e WHERE e.job_id = j.id AND ${where}) - j.created_at) * 1000)::float8 AS ms
       FROM jobs j WHERE j.id = ANY($1)`,
    [jobIds],
  );
  const latencies = rows.map((row) => row.ms).filter((ms): ms is number => ms !== null);
  return { latencies, missing: rows.length - latencies.length };
}

interface BacklogResult {
  nodes: number;
  jobs: number;
  seedRate: number;
  seconds: number;
  accepted: number;
  succeeded: number;
  placementsPerS: number;
  /** Attempts settled in the ledger per second of the run. */
  settledPerS: number;
  peakPerS: number;
  allAcceptedS: number | null;
  allSucceededS: number | null;
  /** Seconds from the schedulers' start until the node count of jobs was accepted (fleet clock). */
  firstWaveS: number | null;
  rollbacksPerPlacement: number;
  commitsPerPlacement: number;
  cpuPerPlacementMs: number;
  /** CPU the whole process (API, fleet thread, s3rver) got during the run, in cores. */
  cpuCores: number;
  loadAfter: number;
  integrity: Integrity;
  fleet: FleetStats | null;
  stages: (Stage & { name: string })[];
}

/** Most placements in any 5 s window, per second, from the times the nodes published `accepted`. */
function peakRate(acceptedAtMs: readonly number[], windowMs = 5_000): number {
  const times = [...acceptedAtMs].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j += 1) {
    while (times[j]! - times[i]! >= windowMs) i += 1;
    best = Math.max(best, j - i + 1);
  }
  return best / (windowMs / 1000);
}

async function phaseBacklog(s3: S3, pgUrl: string, natsUrl: string): Promise<BacklogResult> {
  const cluster = new Cluster('backlog', s3, pgUrl, natsUrl);
  let fleet: FleetStats | null = null;
  try {
    await cluster.addReplica();
    await cluster.seedWorld(NODES);
    progress(`backlog: ${NODES} nodes seeded; submitting ${JOBS} jobs (hold + row each)`);
    const seedRate = await cluster.submitBacklog(JOBS);
    progress(`backlog: ${JOBS} jobs queued (${fmt(seedRate)}/s); starting the fleet`);
    await cluster.startFleet();
    const db = cluster.main.dataSource;
    const before = await transactionCounters(db);
    const cpuBefore = process.cpuUsage();
    const stages = Stages.attach(cluster.main);
    const t0 = now();
    const t0Wall = Date.now();
    cluster.enableSchedulers();
    let allAcceptedS: number | null = null;
    let allSucceededS: number | null = null;
    let last: Counts = { accepted: 0, succeeded: 0, attempts: 0, settled: 0 };
    let lastReport = t0;
    while (now() - t0 < BACKLOG_LIMIT_S * 1000) {
      await sleep(250);
      last = await counts(db);
      if (allAcceptedS === null && last.accepted >= JOBS) allAcceptedS = (now() - t0) / 1000;
      if (last.succeeded >= JOBS) {
        allSucceededS = (now() - t0) / 1000;
        break;
      }
      if (now() - lastReport > 10_000) {
        lastReport = now();
        progress(`backlog: ${fmt((now() - t0) / 1000)} s: ${last.accepted} accepted, ${last.succeeded} succeeded`);
      }
    }
    const seconds = (now() - t0) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const after = await transactionCounters(db);
    for (const replica of cluster.replicas) replica.config.SCHEDULER_ENABLED = false;
    await sleep(RUN_MS + 1_500); // let attempts in flight finish before the integrity check
    const check = await integrity(db);
    const final = await counts(db);
    fleet = await cluster.stopFleet();
    const peakPerS = peakRate(Object.values(fleet?.acceptedAtMs ?? {}));
    const acceptedTimes = Object.values(fleet?.acceptedAtMs ?? {}).sort((x, y) => x - y);
    const firstWaveS = acceptedTimes.length >= NODES ? (acceptedTimes[NODES - 1]! - t0Wall) / 1000 : null;
    return {
      nodes: NODES,
      jobs: JOBS,
      seedRate,
      seconds,
      accepted: last.accepted,
      succeeded: final.succeeded,
      placementsPerS: last.accepted / (allAcceptedS ?? seconds),
      settledPerS: last.settled / seconds,
      peakPerS,
      firstWaveS,
      allAcceptedS,
      allSucceededS,
      rollbacksPerPlacement: (after.rollbacks - before.rollbacks) / Math.max(1, last.accepted),
      commitsPerPlacement: (after.commits - before.commits) / Math.max(1, last.accepted),
      cpuPerPlacementMs: (cpu.user + cpu.system) / 1000 / Math.max(1, last.accepted),
      cpuCores: (cpu.user + cpu.system) / 1000 / (seconds * 1000),
      loadAfter: loadavg()[0] ?? 0,
      integrity: check,
      fleet,
      stages: [...stages.stages].map(([name, stage]) => ({ name, ...stage })),
    };
  } finally {
    await cluster.stop();
  }
}

interface RateResult {
  offered: number;
  achievedRate: number;
  accepted: number;
  missing: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  integrity: Integrity;
  busyAssignments: number | null;
  /** Job created → its node published `accepted` (seen by the fleet, before the API stores it). */
  /** Job created → assigned (attempt committed with its node reserved; the assignment goes out). */
  assigned: number;
  assignedMissing: number;
  assignedP50: number;
  assignedP90: number;
  assignedP99: number;
  assignedMax: number;
  nodeP50?: number;
  nodeP99?: number;
  nodeAccepted?: number;
}

async function phaseRate(s3: S3, pgUrl: string, natsUrl: string): Promise<RateResult> {
  const cluster = new Cluster('rate', s3, pgUrl, natsUrl);
  try {
    await cluster.addReplica();
    await cluster.seedWorld(RATE_NODES);
    await cluster.startFleet();
    cluster.enableSchedulers();
    await sleep(1_500);
    progress(`rate: submitting ${RATE_PER_S}/s for ${RATE_SECONDS} s`);
    const total = RATE_PER_S * RATE_SECONDS;
    const ids: string[] = [];
    const createdAt = new Map<string, number>();
    const pending: Promise<unknown>[] = [];
    const t0 = now();
    let k = 0;
    while (k < total) {
      const due = Math.min(total, Math.floor(((now() - t0) * RATE_PER_S) / 1000) + 1);
      while (k < due) {
        k += 1;
        pending.push(
          cluster.submitJob().then((job) => {
            ids.push(job.id);
            createdAt.set(job.id, job.createdAtMs);
          }),
        );
      }
      await sleep(2);
    }
    await Promise.all(pending);
    const achievedRate = total / ((now() - t0) / 1000);
    // Until every job is accepted, or 10 s after the last submission.
    const db = cluster.main.dataSource;
    const deadline = now() + 10_000;
    while (now() < deadline) {
      const [{ n }] = await db.query(`SELECT count(DISTINCT job_id)::int AS n FROM job_events WHERE type = 'accepted'`);
      if (n >= total) break;
      await sleep(200);
    }
    const { latencies, missing } = await submitTo(db, ids, "e.type = 'accepted'");
    const assigned = await submitTo(db, ids, "e.to_status = 'provisioning'");
    await sleep(RUN_MS + 1_500);
    const check = await integrity(db);
    const fleet = await cluster.stopFleet();
    const atNode = ids.map((id) => (fleet?.acceptedAtMs[id] ?? Number.NaN) - (createdAt.get(id) ?? Number.NaN)).filter((ms) => Number.isFinite(ms));
    return {
      assigned: assigned.latencies.length,
      assignedMissing: assigned.missing,
      assignedP50: percentile(assigned.latencies, 50),
      assignedP90: percentile(assigned.latencies, 90),
      assignedP99: percentile(assigned.latencies, 99),
      assignedMax: percentile(assigned.latencies, 100),
      nodeP50: percentile(atNode, 50),
      nodeP99: percentile(atNode, 99),
      nodeAccepted: atNode.length,
      busyAssignments: fleet?.busyAssignments ?? null,
      offered: total,
      achievedRate,
      accepted: latencies.length,
      missing, p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: percentile(latencies, 100), integrity: check };
  } finally {
    await cluster.stop();
  }
}

interface ReplicaResult {
  replicas: number;
  accepted: number;
  placementsPerS: number;
  rollbacksPerPlacement: number;
  integrity: Integrity;
  busyAssignments: number | null;
}

async function phaseReplicas(s3: S3, pgUrl: string, natsUrl: string, replicas: number): Promise<ReplicaResult> {
  const cluster = new Cluster(`r${replicas}`, s3, pgUrl, natsUrl);
  try {
    await cluster.addReplica();
    await cluster.seedWorld(REPLICA_NODES);
    await cluster.submitBacklog(REPLICA_JOBS);
    for (let i = 1; i < replicas; i += 1) await cluster.addReplica();
    await cluster.startFleet();
    const db = cluster.main.dataSource;
    const before = await transactionCounters(db);
    const t0 = now();
    cluster.enableSchedulers();
    let last: Counts = { accepted: 0, succeeded: 0, attempts: 0, settled: 0 };
    while (now() - t0 < REPLICA_WINDOW_S * 1000) {
      await sleep(250);
      last = await counts(db);
      if (last.accepted >= REPLICA_JOBS) break;
    }
    const seconds = (now() - t0) / 1000;
    const after = await transactionCounters(db);
    for (const replica of cluster.replicas) replica.config.SCHEDULER_ENABLED = false;
    await sleep(RUN_MS + 1_500);
    const check = await integrity(db);
    const fleet = await cluster.stopFleet();
    return { busyAssignments: fleet?.busyAssignments ?? null, replicas, accepted: last.accepted, placementsPerS: last.accepted / seconds, rollbacksPerPlacement: (after.rollbacks - before.rollbacks) / Math.max(1, last.accepted), integrity: check };
  } finally {
    await cluster.stop();
  }
}

function markdown(input: { backlog?: BacklogResult; rate?: RateResult; replicas: ReplicaResult[]; notes: string[]; totalS: number; load: number }): string {
  const pass = (ok: boolean) => (ok ? 'met' : '**not met**');
  const lines: string[] = [
    '## Scheduler',
    '',
    `\`npm run bench -- scheduler\` — ${machineLine()}; load average before the run ${input.load.toFixed(2)}.`,
    'API replicas booted in-process (the real `SchedulerService`: rounds of up to 200 jobs claimed, matched, reserved and written in one transaction,',
    'started by each submission and every 250 ms, provisioning in the background; the community provider, attempt-events consumer and billing), each',
    'phase on a fresh PostgreSQL database and its own NATS/JetStream subject prefix, datasets on an in-process s3rver. A worker thread simulates the',
    `fleet over the real NATS: every node heartbeats (HMAC, 2 s cadence) and answers each assignment (platform signature verified) with node-signed`,
    `\`accepted\` and \`started\` events, then \`finished\` (completed) after ${fmt(RUN_MS)} ms, published to JetStream like the agent. Jobs are queued with a real`,
    'ledger hold each. Everything — replicas, fleet, s3rver, PostgreSQL and nats-server — shares this machine\'s cores (and, when other work runs on it,',
    'whatever CPU that leaves: the load average is given with each figure).',
    `The backlog phase runs at the issue's scale (${fmt(NODES)} nodes); the steady-load and replica phases use ${RATE_NODES === REPLICA_NODES ? fmt(RATE_NODES) : `${fmt(RATE_NODES)} and ${fmt(REPLICA_NODES)}`} nodes,`,
    'as before (every replica checks every node\'s heartbeat, one per node every 2 s).',
    '',
  ];
  const b = input.backlog;
  if (b) {
    const finished = b.allAcceptedS !== null;
    lines.push(
      `| backlog: ${fmt(b.jobs)} queued jobs onto ${fmt(b.nodes)} nodes, 1 replica | measured | target |`,
      '| --- | --- | --- |',
      `| placements (attempts whose node answered \`accepted\`) | ${fmt(b.accepted)} of ${fmt(b.jobs)} in ${fmt(b.seconds, 1)} s${finished ? '' : ` (stopped at the ${BACKLOG_LIMIT_S} s limit; the rest were still queued)`} | all |`,
      `| placements/s (whole run) / best 5 s | ${fmt(b.placementsPerS, 1)} / ${fmt(b.peakPerS, 1)} | ≥ 500 ${pass(b.placementsPerS >= 500)} |`,
      `| the first ${fmt(b.nodes)} (every node free: the placement path alone, before nodes must finish and be released) | ${b.firstWaveS === null ? 'not within the limit' : `${fmt(b.firstWaveS, 1)} s, ${fmt(b.nodes / b.firstWaveS, 1)}/s`} | |`,
      `| all ${fmt(b.jobs)} placed / all succeeded after | ${b.allAcceptedS === null ? 'not within the limit' : `${fmt(b.allAcceptedS, 1)} s`} / ${b.allSucceededS === null ? `${fmt(b.succeeded)} succeeded by the end` : `${fmt(b.allSucceededS, 1)} s`} | |`,
      `| double placements (a node with two overlapping live attempts / a job with two) | ${b.integrity.nodeOverlaps} / ${b.integrity.jobOverlaps}; assignments reaching a busy node: ${b.fleet?.busyAssignments ?? 'n/a'} | 0 ${pass(b.integrity.nodeOverlaps === 0 && b.integrity.jobOverlaps === 0 && (b.fleet?.busyAssignments ?? 0) === 0)} |`,
      `| attempts by end reason | ${Object.entries(b.integrity.endReasons).map(([reason, n]) => `${reason} ${fmt(n)}`).join(', ')}; settled ${fmt(b.integrity.settled)} of ${fmt(b.integrity.ended)} ended${b.integrity.failures.length > 0 ? `; attempts that failed to start: ${b.integrity.failures.map((f) => `${f.n}× \"${f.message}\"`).join('; ')}` : ''} | |`,
      `| per placement: PostgreSQL commits / rollbacks; API-process CPU | ${fmt(b.commitsPerPlacement, 1)} / ${fmt(b.rollbacksPerPlacement, 1)}; ${fmt(b.cpuPerPlacementMs, 1)} ms (incl. the fleet thread and s3rver); the process got ${fmt(b.cpuCores, 2)} cores on average, load average ${fmt(b.loadAfter, 1)} at the end | |`,
      `| attempt events applied by the consumer (accepted, started, finished) / attempts settled in the ledger, per second | ${fmt((b.stages.find((stage) => stage.name.startsWith('apply one attempt event'))?.calls ?? 0) / b.seconds, 1)} / ${fmt(b.settledPerS, 1)} | |`,
      `| seeding: jobs queued with their holds | ${fmt(b.seedRate)}/s | |`,
      '',
      'After the first wave a node takes another job only once its attempt has ended: the attempt-events consumer must apply its `accepted`,',
      '`started` and `finished` (the last ends the attempt, frees the node and settles the seconds in the ledger), which is why the whole run is',
      'bounded by the events applied per second above rather than by the rounds. The consumer applies up to 256 events at once and writes those',
      'of one tick together: one read of their attempts, the notes in one transaction, the starts in another, and the attempts that finished',
      'ended in one transaction (set-based statements), their nodes freed in one statement and their seconds settled in one ledger transaction',
      '(each attempt its own linked chain, idempotent per attempt). The API process runs everything else on the same event loop —',
      `${fmt(b.nodes / 2)} heartbeats a second from ${fmt(b.nodes)} nodes, every attempt event received twice (the provider adapter's answer subscription and`,
      'the consumer), the outbox — and a transaction holds its connection (10 per process) across each of its awaits, so how fast the rounds and',
      'the consumer go depends on how busy that loop is. Before rounds (one job at a time: about 21 commits and a wait',
      'for the node\'s answer per placement) this benchmark measured 6.8 placements/s over the whole run and p99 job → accepted of 17.5 s',
      '(2026-11-22 09:48 UTC, load 0.7).',
      '',
      `Where the time goes (backlog run, the replica's own methods timed in place; concurrent calls add up — up to 2,000 provisions wait for their`,
      `node's answer at once, so their lines are waiting time, not work — and the heartbeat line is main-thread time spent while ${fmt(b.seconds, 0)} s passed):`,
      '',
      '| stage | calls | calls per placement | ms per call | ms per placement |',
      '| --- | --- | --- | --- | --- |',
      ...b.stages.map((stage) => {
        const per = Math.max(1, b.accepted);
        const refused = stage.refused > 0 ? ` (${fmt(stage.refused)} lost to another job)` : '';
        return `| ${stage.name} | ${fmt(stage.calls)}${refused} | ${fmt(stage.calls / per, 1)} | ${fmt(stage.totalMs / Math.max(1, stage.calls), 1)} | ${fmt(stage.totalMs / per, 1)} |`;
      }),
      '',
    );
  }
  const r = input.rate;
  if (r) {
    lines.push(
      `| steady load: ${RATE_PER_S} submissions/s for ${RATE_SECONDS} s, ${fmt(RATE_NODES)} idle nodes, 1 replica | measured | target |`,
      '| --- | --- | --- |',
      `| submissions | ${fmt(r.offered)} at ${fmt(r.achievedRate, 1)}/s; accepted ${fmt(r.accepted)}${r.missing > 0 ? `, ${fmt(r.missing)} not accepted within 10 s of the last submission (so the p99 over all submissions is above 10 s)` : ''} | |`,
      `| job created → assigned (attempt committed, node reserved, assignment sent), p50 / p90 / p99 / max; jobs | ${fmt(r.assignedP50)} / ${fmt(r.assignedP90)} / ${fmt(r.assignedP99)} / ${fmt(r.assignedMax)} ms; ${fmt(r.assigned)}${r.assignedMissing > 0 ? ` (${fmt(r.assignedMissing)} not assigned)` : ''} | p99 < 1,000 ms ${pass(r.assignedP99 < 1000 && r.assignedMissing === 0)} |`,
      `| job created → node's \`accepted\` stored by the API (attempt-events consumer), p50 / p90 / p99 / max (of those stored) | ${fmt(r.p50)} / ${fmt(r.p90)} / ${fmt(r.p99)} / ${fmt(r.max)} ms | |`,
      `| job created → node published \`accepted\` (fleet clock), p50 / p99; jobs | ${fmt(r.nodeP50 ?? Number.NaN)} / ${fmt(r.nodeP99 ?? Number.NaN)} ms; ${fmt(r.nodeAccepted ?? 0)} | |`,
      `| double placements (node / job; assignments reaching a busy node) | ${r.integrity.nodeOverlaps} / ${r.integrity.jobOverlaps}; ${r.busyAssignments ?? 'n/a'} | 0 ${pass(r.integrity.nodeOverlaps === 0 && r.integrity.jobOverlaps === 0 && !r.busyAssignments)} |`,
      '',
    );
  }
  if (input.replicas.length > 0) {
    lines.push(
      `| replicas (same database and NATS prefix, ${fmt(REPLICA_JOBS)} queued jobs, ${fmt(REPLICA_NODES)} nodes, ${REPLICA_WINDOW_S} s window) | placements/s | rollbacks per placement | double placements (node / job; assignments reaching a busy node) |`,
      '| --- | --- | --- | --- |',
      ...input.replicas.map((x) => `| ${x.replicas} | ${fmt(x.placementsPerS, 1)} (${fmt(x.accepted)} placed) | ${fmt(x.rollbacksPerPlacement, 1)} | ${x.integrity.nodeOverlaps} / ${x.integrity.jobOverlaps}; ${x.busyAssignments ?? 'n/a'} |`),
      '',
      'The replicas are separate Nest applications (own connection pools, NATS connections and scheduler loops) in one Node process, so they share one',
      'event loop and, with PostgreSQL and NATS, the same cores: the table shows coordination cost and correctness under concurrent schedulers, not',
      'how separate machines would scale.',
      '',
    );
  }
  for (const note of input.notes) lines.push(`${note}  `);
  lines.push(`Total benchmark time ${fmt(input.totalS)} s.`);
  return lines.join('\n');
}

/** Runs a phase with a time limit; an abandoned phase is reported, and the run goes on. */
async function bounded<T>(label: string, run: () => Promise<T>, notes: string[]): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      notes.push(`The ${label} phase did not finish within ${fmt(PHASE_LIMIT_MS / 1000)} s and was abandoned.`);
      progress(`${label}: abandoned after ${PHASE_LIMIT_MS} ms`);
      resolve(undefined);
    }, PHASE_LIMIT_MS);
  });
  try {
    return await Promise.race([
      run().catch((error: unknown) => {
        notes.push(`The ${label} phase failed: ${error instanceof Error ? error.message : String(error)}.`);
        progress(`${label} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return undefined;
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const started = now();
  const load = loadavg()[0] ?? 0;
  const pgUrl = process.env.ANNEAL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const natsUrl = process.env.ANNEAL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const limit = setTimeout(() => {
    progress(`exceeded ${HARD_LIMIT_MS} ms; giving up`);
    process.exit(1);
  }, HARD_LIMIT_MS);
  limit.unref();
  const s3 = await startS3();
  try {
    const result: { backlog?: BacklogResult; rate?: RateResult; replicas: ReplicaResult[]; notes: string[] } = { replicas: [], notes: [] };
    if (PHASES.includes('backlog')) {
      result.backlog = await bounded('backlog', () => phaseBacklog(s3, pgUrl, natsUrl), result.notes);
      progress(`backlog: ${JSON.stringify(result.backlog)}`);
    }
    if (PHASES.includes('rate')) {
      result.rate = await bounded('steady-load', () => phaseRate(s3, pgUrl, natsUrl), result.notes);
      progress(`rate: ${JSON.stringify(result.rate)}`);
    }
    if (PHASES.includes('replicas')) {
      for (const replicas of REPLICA_COUNTS) {
        const outcome = await bounded(`${replicas}-replica`, () => phaseReplicas(s3, pgUrl, natsUrl, replicas), result.notes);
        if (outcome) result.replicas.push(outcome);
        progress(`replicas: ${JSON.stringify(outcome)}`);
      }
    }
    const md = markdown({ ...result, totalS: (now() - started) / 1000, load });
    if (process.env.BENCH_SCHEDULER_NO_WRITE !== '1') writeBenchmarkSection('scheduler', md);
    process.stdout.write(`${md}\n`);
  } finally {
    clearTimeout(limit);
    for (const cluster of liveClusters) await Promise.race([cluster.stop().catch(() => null), sleep(20_000)]);
    await s3.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`scheduler bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
