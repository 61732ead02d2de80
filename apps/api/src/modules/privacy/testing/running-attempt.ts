import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { TestApp } from '../../../testing/test-app.js';
import { hashAttemptToken } from '../../attempt-access/attempt-token.guard.js';
import { AttemptLifecycle } from '../../jobs/attempt-lifecycle.service.js';

const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 512, batchSize: 4, steps: 100 };

/**
 * A submitted job with a live attempt, as the scheduler would leave it on a cloud machine that
 * started training: the job `running`, an attempt with a known attempt token. For tests that need
 * an attempt without a GPU node (the attempt token, outputs, retention).
 */
export async function runningAttempt(t: TestApp, accessToken: string, datasetId: string, budgetCap = '1.00') {
  const submitted = await t.http.post('/v1/jobs', { recipe, datasetId, resources: { gpuCount: 1 }, budgetCap }, accessToken);
  if (submitted.status !== 201) throw new Error(`job submit failed: ${submitted.status} ${JSON.stringify(submitted.body)}`);
  const jobId = submitted.body.id as string;
  const [job] = (await t.dataSource.query('SELECT org_id FROM jobs WHERE id = $1', [jobId])) as { org_id: string }[];
  const orgId = job!.org_id;
  const attemptId = uuidv7();
  const attemptToken = `att_${randomBytes(32).toString('base64url')}`;
  const now = new Date(Date.now() - 60_000);
  await t.dataSource.query(
    `INSERT INTO attempts (id, job_id, org_id, number, provider_kind, offer_id, gpu_model, gpu_count, price_micros_per_gpu_hour, status, attempt_token_hash, created_at, running_at, last_seen_at, instance_id)
     VALUES ($1, $2, $3, 1, 'gcp', 'gcp:test-offer', 'RTX 4090', 1, 450000, 'running', $4, $5, $5, $5, NULL)`,
    [attemptId, jobId, orgId, hashAttemptToken(attemptToken), now],
  );
  await t.dataSource.query(`UPDATE jobs SET status = 'running', started_at = $2, attempt_count = 1 WHERE id = $1`, [jobId, now]);
  return {
    jobId,
    orgId,
    attemptId,
    attemptToken,
    /** Ends the attempt through the real lifecycle (job succeeded or canceled, settlement, delete-after-training). */
    end: (reason: 'completed' | 'user_canceled' | 'error' = 'completed', artifactKeys?: string[]) => t.app.get(AttemptLifecycle).endAttempt(attemptId, reason, undefined, artifactKeys),
  };
}
