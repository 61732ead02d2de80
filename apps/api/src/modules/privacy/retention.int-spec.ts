import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStorage } from '../../core/storage/object-storage.js';
import { readyDataset, topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';
import { PRIVACY_LOCK_KEYS } from './advisory-lock.js';
import { RetentionScheduler } from './retention.scheduler.js';
import { RetentionService } from './retention.service.js';
import { runningAttempt } from './testing/running-attempt.js';

const DAY_MS = 86_400_000;

describe('retention (real Postgres, NATS, S3 protocol)', () => {
  const clock = new TestClock();
  let t: TestApp;
  let customer: Awaited<ReturnType<typeof signUp>>;
  let storage: ObjectStorage;
  let retention: RetentionService;
  let scheduler: RetentionScheduler;

  beforeAll(async () => {
    t = await startTestApp({ s3: true, clock });
    customer = await signUp(t.http);
    await topUp(t.http, customer.accessToken, '20.00');
    storage = t.app.get(ObjectStorage);
    retention = t.app.get(RetentionService);
    scheduler = t.app.get(RetentionScheduler);
  });

  afterAll(() => t?.close());

  it('deletes a "delete after training" dataset as soon as its job completes, and keeps one without the flag', async () => {
    const once = await readyDataset(t.http, customer.accessToken, { deleteAfterTraining: true });
    const kept = await readyDataset(t.http, customer.accessToken, { deleteAfterTraining: false });
    const [{ storage_key: onceKey }] = await t.dataSource.query('SELECT storage_key FROM datasets WHERE id = $1', [once.id]);
    expect(await storage.head(onceKey)).not.toBeNull();

    const first = await runningAttempt(t, customer.accessToken, once.id);
    await first.end('completed', []);
    expect((await t.http.get(`/v1/jobs/${first.jobId}`, customer.accessToken)).body.status).toBe('succeeded');
    const deleted = await t.http.get(`/v1/datasets/${once.id}`, customer.accessToken);
    expect(deleted.body.status).toBe('deleted');
    expect(await storage.head(onceKey)).toBeNull();
    const [audit] = await t.dataSource.query(`SELECT details FROM audit_log WHERE action = 'dataset.deleted' AND target_id = $1`, [once.id]);
    expect(audit.details).toEqual({ reason: 'after_training' });

    const second = await runningAttempt(t, customer.accessToken, kept.id);
    await second.end('completed', []);
    expect((await t.http.get(`/v1/datasets/${kept.id}`, customer.accessToken)).body.status).toBe('ready');
  });

  it('retries "delete after training" when the deletion right after the job did not happen, and waits for jobs still using the dataset', async () => {
    const dataset = await readyDataset(t.http, customer.accessToken, { deleteAfterTraining: true });
    const done = await runningAttempt(t, customer.accessToken, dataset.id);
    const active = await runningAttempt(t, customer.accessToken, dataset.id);
    // As if storage had been down when the first job succeeded: the job is done, the dataset is not deleted.
    await t.dataSource.query(`UPDATE attempts SET status = 'ended', end_reason = 'completed', ended_at = now() WHERE id = $1`, [done.attemptId]);
    await t.dataSource.query(`UPDATE jobs SET status = 'succeeded', finished_at = now() WHERE id = $1`, [done.jobId]);
    expect(await scheduler.runTrainedDatasets()).toEqual({ deleted: 0, failed: 0 });
    expect((await t.http.get(`/v1/datasets/${dataset.id}`, customer.accessToken)).body.status).toBe('ready');
    await t.dataSource.query(`UPDATE attempts SET status = 'ended', end_reason = 'user_canceled', ended_at = now() WHERE id = $1`, [active.attemptId]);
    await t.dataSource.query(`UPDATE jobs SET status = 'canceled', finished_at = now() WHERE id = $1`, [active.jobId]);
    expect(await scheduler.runTrainedDatasets()).toEqual({ deleted: 1, failed: 0 });
    expect((await t.http.get(`/v1/datasets/${dataset.id}`, customer.accessToken)).body.status).toBe('deleted');
    expect(await retention.deleteTrainedDatasets()).toEqual({ deleted: 0, failed: 0 });
  });

  it('deletes job outputs after the download window, clears artifact_keys, keeps the job, and is idempotent', async () => {
    const dataset = await readyDataset(t.http, customer.accessToken);
    const run = await runningAttempt(t, customer.accessToken, dataset.id);
    const artifactKey = `jobs/${run.orgId}/${run.jobId}/artifacts/model.bin`;
    const checkpointKey = `jobs/${run.orgId}/${run.jobId}/${run.attemptId}/checkpoints/checkpoint-001.bin`;
    const otherJobKey = `jobs/${run.orgId}/00000000-0000-7000-8000-000000000000/artifacts/model.bin`;
    for (const key of [artifactKey, checkpointKey, otherJobKey]) await storage.put(key, Buffer.from('weights'));
    await run.end('completed', [artifactKey]);
    expect((await t.http.get(`/v1/jobs/${run.jobId}/artifacts`, customer.accessToken)).body.artifacts).toHaveLength(1);

    // Inside the window nothing happens.
    const inside = await retention.purgeJobOutputs(new Date(clock.now().getTime() + 6 * DAY_MS));
    expect(inside.jobs).toBe(0);
    expect(await storage.head(artifactKey)).not.toBeNull();

    const after = new Date(clock.now().getTime() + 7 * DAY_MS + 60_000);
    const result = await scheduler.runJobOutputs(after);
    expect(result).toMatchObject({ failed: 0 });
    expect(result!.jobs).toBeGreaterThanOrEqual(1);
    expect(await storage.head(artifactKey)).toBeNull();
    expect(await storage.head(checkpointKey)).toBeNull();
    expect(await storage.head(otherJobKey)).not.toBeNull();
    const job = await t.http.get(`/v1/jobs/${run.jobId}`, customer.accessToken);
    expect(job.status).toBe(200);
    expect(job.body.status).toBe('succeeded');
    const [row] = await t.dataSource.query('SELECT artifact_keys, last_checkpoint_key FROM jobs WHERE id = $1', [run.jobId]);
    expect(row).toEqual({ artifact_keys: [], last_checkpoint_key: null });
    const [purge] = await t.dataSource.query('SELECT objects_deleted, reason FROM job_output_purges WHERE job_id = $1', [run.jobId]);
    expect(purge).toEqual({ objects_deleted: 2, reason: 'retention' });
    const events = (await t.http.get(`/v1/jobs/${run.jobId}/events`, customer.accessToken)).body as { type: string }[];
    expect(events.map((e) => e.type)).toContain('outputs_deleted');
    expect((await t.http.get(`/v1/jobs/${run.jobId}/artifacts`, customer.accessToken)).body.artifacts).toEqual([]);
    expect(t.logLines.some((line) => line.includes('"retention":"job outputs"'))).toBe(true);

    expect(await retention.purgeJobOutputs(after)).toEqual({ jobs: 0, objects: 0, failed: 0 });
  });

  it('deletes job logs and metric points older than 90 days, keeps newer ones, and is idempotent', async () => {
    const dataset = await readyDataset(t.http, customer.accessToken);
    const run = await runningAttempt(t, customer.accessToken, dataset.id);
    const now = clock.now();
    const old = new Date(now.getTime() - 91 * DAY_MS);
    for (const [i, at] of [old, now].entries()) {
      await t.dataSource.query(`INSERT INTO job_logs (id, job_id, attempt_id, seq, at, stream, line) VALUES (gen_random_uuid(), $1, $2, $3, $4, 'stdout', 'step')`, [run.jobId, run.attemptId, i + 1, at]);
      await t.dataSource.query(`INSERT INTO job_metrics (id, job_id, attempt_id, at, step, loss) VALUES (gen_random_uuid(), $1, $2, $3, $4, 1.5)`, [run.jobId, run.attemptId, at, i + 1]);
    }
    const result = await scheduler.runJobTelemetry(now);
    expect(result).toEqual({ logs: 1, metrics: 1 });
    expect((await t.http.get(`/v1/jobs/${run.jobId}/logs`, customer.accessToken)).body.lines).toHaveLength(1);
    expect((await t.http.get(`/v1/jobs/${run.jobId}/metrics`, customer.accessToken)).body.points.map((p: { step: number }) => p.step)).toEqual([2]);
    expect(await retention.purgeJobTelemetry(now)).toEqual({ logs: 0, metrics: 0 });
  });

  it('nulls raw IPs and user agents on audit entries and sessions after 90 days, keeping the rows', async () => {
    const user = await signUp(t.http);
    const count = async () => (await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE actor_user_id = $1`, [user.userId]))[0].n as number;
    const [session] = await t.dataSource.query('SELECT ip, user_agent FROM sessions WHERE user_id = $1', [user.userId]);
    expect(session.ip).toBeTruthy();
    const entries = await count();
    expect(entries).toBeGreaterThan(0);

    expect(await retention.redactNetworkIdentifiers(new Date(clock.now().getTime() + 89 * DAY_MS))).toEqual({ auditEntries: 0, sessions: 0 });
    const later = new Date(clock.now().getTime() + 91 * DAY_MS);
    const result = await scheduler.runNetworkIdentifiers(later);
    expect(result!.auditEntries).toBeGreaterThanOrEqual(entries);
    expect(result!.sessions).toBeGreaterThanOrEqual(1);
    expect(await count()).toBe(entries);
    const rows = await t.dataSource.query('SELECT ip, user_agent FROM audit_log WHERE actor_user_id = $1', [user.userId]);
    expect(rows.every((r: { ip: string | null; user_agent: string | null }) => r.ip === null && r.user_agent === null)).toBe(true);
    expect(await t.dataSource.query('SELECT ip, user_agent FROM sessions WHERE user_id = $1', [user.userId])).toEqual([{ ip: null, user_agent: null }]);
    // The user is still signed in: only the identifiers went.
    expect((await t.http.get('/v1/me', user.accessToken)).status).toBe(200);
    expect(await retention.redactNetworkIdentifiers(later)).toEqual({ auditEntries: 0, sessions: 0 });
  });

  it('deletes sent emails after 90 days and keeps unsent ones for the sender', async () => {
    const now = clock.now();
    const old = new Date(now.getTime() - 91 * DAY_MS);
    await t.dataSource.query(
      `INSERT INTO email_outbox (id, to_address, subject, body, created_at, sent_at, attempts) VALUES
        (gen_random_uuid(), 'old-sent@example.com', 'Invite', 'Join us', $1, $1, 1),
        (gen_random_uuid(), 'old-unsent@example.com', 'Invite', 'Join us', $1, NULL, 5),
        (gen_random_uuid(), 'new-sent@example.com', 'Invite', 'Join us', $2, $2, 1)`,
      [old, now],
    );
    expect(await scheduler.runSentEmails(now)).toEqual({ emails: 1 });
    const left = (await t.dataSource.query(`SELECT to_address FROM email_outbox WHERE to_address LIKE '%-sent@example.com' OR to_address LIKE '%-unsent@example.com' ORDER BY to_address`)) as { to_address: string }[];
    expect(left.map((r) => r.to_address)).toEqual(['new-sent@example.com', 'old-unsent@example.com']);
    expect(await retention.purgeSentEmails(now)).toEqual({ emails: 0 });
  });

  it('runs each cron in one replica at a time: a held advisory lock makes the run a no-op', async () => {
    const runner = t.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [PRIVACY_LOCK_KEYS.jobTelemetry]);
      expect(await scheduler.runJobTelemetry(clock.now())).toBeNull();
      await runner.query('SELECT pg_advisory_unlock($1)', [PRIVACY_LOCK_KEYS.jobTelemetry]);
      expect(await scheduler.runJobTelemetry(clock.now())).toEqual({ logs: 0, metrics: 0 });
    } finally {
      await runner.release();
    }
  });

  it('keeps cron work off when SCHEDULER_ENABLED is false (tests and API-only replicas)', async () => {
    const dataset = await readyDataset(t.http, customer.accessToken);
    const run = await runningAttempt(t, customer.accessToken, dataset.id);
    await t.dataSource.query(`INSERT INTO job_logs (id, job_id, attempt_id, seq, at, stream, line) VALUES (gen_random_uuid(), $1, $2, 1, $3, 'stdout', 'old')`, [run.jobId, run.attemptId, new Date(Date.now() - 100 * DAY_MS)]);
    await scheduler.jobTelemetryTick();
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM job_logs WHERE job_id = $1', [run.jobId]))[0].n).toBe(1);
  });
});
