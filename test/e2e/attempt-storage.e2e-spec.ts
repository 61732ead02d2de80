import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Assignment } from '@anneal/providers';
import { AttemptStorageClient, AttemptStorageError, decodeCheckpoint, SyntheticRunner, type RunnerContext, type RunnerEvent } from '@anneal/node-agent';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, supportChats, topUp, uploadDataset, type Stack } from '../support/index.js';

/**
 * The agent's attempt I/O (the built anneal-agent package: synthetic runner, workspace, storage
 * client) against the built API, with an assignment that carries no presigned URL: every URL is
 * fetched with the attempt token from the real attempt-access endpoints, over real Postgres and
 * the S3 protocol. The attempts are made in the database as the scheduler would leave them (the
 * scheduler is off here, so nothing else moves them).
 */
describe('an attempt whose assignment carries no URL, against the real API (built API and agent package, Postgres, s3rver)', () => {
  const bucket = `att-${Date.now().toString(36)}`;
  const dataset = supportChats();
  const workRoot = mkdtempSync(join(tmpdir(), 'anneal-e2e-storage-'));
  let stack: Stack;
  let db: pg.Client;
  let s3: S3Client;
  let customer: { token: string; orgId: string };
  let jobId: string;

  beforeAll(async () => {
    stack = await startStack({ env: { SCHEDULER_ENABLED: 'false', S3_BUCKET: bucket, ATTEMPT_URL_TTL_SECONDS: '300' } });
    db = new pg.Client({ connectionString: stack.db.url });
    await db.connect();
    s3 = new S3Client({ endpoint: stack.s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey } });
    customer = await stack.signUp('customer');
    await topUp(stack.api, customer.token, '20.00');
    const datasetId = await uploadDataset(stack.api, customer.token, dataset);
    const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 256, batchSize: 4, steps: 90 };
    const submitted = await stack.api.call('POST', '/v1/jobs', { recipe, datasetId, resources: { gpuCount: 1 }, budgetCap: '1.00' }, customer.token);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    jobId = submitted.body.id;
  });

  afterAll(async () => {
    s3?.destroy();
    await db?.end();
    await stack?.close();
    rmSync(workRoot, { recursive: true, force: true });
  });

  /** A live attempt of the job with a known token (what the scheduler writes when it places the job). */
  async function liveAttempt(number: number) {
    const attemptId = randomUUID();
    const attemptToken = `att_${randomBytes(32).toString('base64url')}`;
    await db.query(
      `INSERT INTO attempts (id, job_id, org_id, number, provider_kind, offer_id, gpu_model, gpu_count, price_micros_per_gpu_hour, status, attempt_token_hash, created_at, running_at, last_seen_at)
       VALUES ($1, $2, $3, $4, 'gcp', 'gcp:e2e-offer', 'RTX 4090', 1, 450000, 'running', $5, now(), now(), now())`,
      [attemptId, jobId, customer.orgId, number, createHash('sha256').update(attemptToken).digest('hex')],
    );
    await db.query(`UPDATE jobs SET status = 'running', started_at = COALESCE(started_at, now()) WHERE id = $1`, [jobId]);
    return { attemptId, attemptToken };
  }
  const endAttempt = (attemptId: string) => db.query(`UPDATE attempts SET status = 'ended', end_reason = 'preempted', ended_at = now() WHERE id = $1`, [attemptId]);

  /** Runs the synthetic trainer as the agent does, on an assignment without URLs, with the storage client on the real API. */
  async function train(attempt: { attemptId: string; attemptToken: string }, resume: { step: number } | null) {
    const assignment: Assignment = {
      schemaVersion: 1,
      type: 'assign',
      nodeId: 'node-e2e',
      attempt: {
        attemptId: attempt.attemptId,
        jobId,
        recipe: { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', precision: 'bf16', quantization: null, sequenceLength: 256, imageResolution: null, batchSize: 4, gradientAccumulation: 1, steps: 90, epochs: null, validation: null, hyperparameters: { seed: 3 } },
        runnerKind: 'synthetic',
        maxDurationS: 600,
        budgetStopAt: null,
        gpuIndices: null,
      },
      dataset: { sizeBytes: dataset.length, sha256: createHash('sha256').update(dataset).digest('hex') },
      resumeCheckpoint: resume ? { step: resume.step, sizeBytes: null } : null,
      attemptToken: attempt.attemptToken,
      issuedAt: new Date().toISOString(),
    };
    const storage = new AttemptStorageClient({ apiUrl: stack.api.baseUrl, attemptId: attempt.attemptId, attemptToken: attempt.attemptToken });
    const events: RunnerEvent[] = [];
    const controller = new AbortController();
    const context: RunnerContext = {
      assignment,
      gpuIndices: [0],
      signal: controller.signal,
      report: (event) => events.push(event),
      nowMs: Date.now,
      gpus: [],
      simulated: true,
      gpuUtilizationPct: () => null,
      workDir: mkdtempSync(join(workRoot, 'attempt-')),
      storage,
    };
    const outcome = await new SyntheticRunner().run(context);
    return { outcome, events, storage };
  }

  const objectBytes = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());

  it('downloads, checkpoints, uploads at the API\'s keys; resumes in a second attempt; and gets nothing once its attempt has ended', async () => {
    const first = await liveAttempt(1);
    const run = await train(first, null);
    expect(run.outcome, run.outcome.message ?? '').toMatchObject({ exitReason: 'completed', steps: 90 });
    const prefix = `jobs/${customer.orgId}/${jobId}`;
    const checkpoints = run.events.filter((event): event is Extract<RunnerEvent, { type: 'checkpoint' }> => event.type === 'checkpoint');
    expect(checkpoints.length).toBeGreaterThan(1);
    expect(checkpoints.map((event) => event.key)).toEqual(checkpoints.map((_, i) => `${prefix}/${first.attemptId}/checkpoints/checkpoint-00${i + 1}.bin`));
    for (const checkpoint of checkpoints) expect(decodeCheckpoint(await objectBytes(checkpoint.key)).step).toBe(checkpoint.step);
    expect(run.outcome.artifactKeys).toEqual([...checkpoints.map((event) => event.key), `${prefix}/artifacts/output.tar`, `${prefix}/${first.attemptId}/logs.txt`]);
    expect((await objectBytes(`${prefix}/artifacts/output.tar`)).length).toBeGreaterThan(0);
    expect((await objectBytes(`${prefix}/${first.attemptId}/logs.txt`)).toString()).toMatch(/completed 90 steps/);
    const published = JSON.stringify(run.events);
    expect(published).not.toContain('X-Amz-Signature');
    expect(published).not.toContain(first.attemptToken);

    // The attempt ends: its token opens nothing any more, and the agent does not retry.
    await endAttempt(first.attemptId);
    const refused = await run.storage.upload({ kind: 'artifact' }).then(() => null, (error: unknown) => error);
    expect(refused).toBeInstanceOf(AttemptStorageError);
    expect((refused as AttemptStorageError).code).toBe('attempt_ended');

    // The job's timeline records the checkpoint (as the attempt-events consumer does); a second attempt resumes from it.
    const mid = checkpoints[1]!;
    await db.query(
      `INSERT INTO job_events (id, job_id, attempt_id, at, type, message, data) VALUES ($1, $2, $3, now(), 'checkpoint', 'Checkpoint saved.', $4)`,
      [randomUUID(), jobId, first.attemptId, JSON.stringify({ step: mid.step, key: mid.key, sizeBytes: mid.sizeBytes })],
    );
    const second = await liveAttempt(2);
    const resumed = await train(second, { step: mid.step });
    expect(resumed.outcome).toMatchObject({ exitReason: 'completed', steps: 90 - mid.step });
    const firstStep = resumed.events.find((event) => event.type === 'step');
    expect(firstStep).toMatchObject({ step: mid.step + 1 });
    await endAttempt(second.attemptId);
  }, 240_000);
});
