import { generate } from 'otplib';
import { newId } from '../../../core/clock/clock.js';
import { signUp, type TestApp } from '../../../testing/test-app.js';
import type { TestClock } from '../../../testing/test-clock.js';
import { BillingService } from '../../billing/billing.service.js';
import { AttemptLifecycle } from '../../jobs/attempt-lifecycle.service.js';
import { Attempt } from '../../jobs/entities/attempt.entity.js';
import { JobEvent } from '../../jobs/entities/job-event.entity.js';
import { JobLog } from '../../jobs/entities/job-log.entity.js';
import { JobMetric } from '../../jobs/entities/job-metric.entity.js';
import { Job } from '../../jobs/entities/job.entity.js';
import type { JobStatus } from '../../jobs/job-state.js';
import { newJob } from '../../jobs/new-job.js';
import { Node } from '../../nodes/entities/node.entity.js';

/** Test data for disputes and the admin side: rows as the real flows leave them, without agents. */

export type Account = Awaited<ReturnType<typeof signUp>>;
export const MIN = 60_000;

/** A platform admin with 2FA on: the row flag plus a real TOTP enrolment through the API. */
export async function signUpAdmin(t: TestApp, clock: TestClock): Promise<Account> {
  const admin = await signUp(t.http);
  await t.dataSource.query('UPDATE users SET is_admin = true WHERE id = $1', [admin.userId]);
  const enrol = await t.http.post('/v1/auth/2fa/enroll', {}, admin.accessToken);
  if (enrol.status !== 200) throw new Error(`enrol failed: ${enrol.status}`);
  const code = await generate({ secret: enrol.body.secret, epoch: Math.floor(clock.now().getTime() / 1000) });
  const verified = await t.http.post('/v1/auth/2fa/verify', { code }, admin.accessToken);
  if (verified.status !== 200) throw new Error(`verify failed: ${verified.status} ${JSON.stringify(verified.body)}`);
  return admin;
}

/** A community node of the provider's org, inserted as registration would leave it. */
export async function insertNode(t: TestApp, providerOrgId: string, at: Date, gpuModelId = 'rtx-4090', gpuName = 'NVIDIA GeForce RTX 4090'): Promise<string> {
  const id = newId();
  await t.dataSource.manager.insert(Node, {
    id,
    orgId: providerOrgId,
    publicKey: `U${id.replace(/-/g, '').toUpperCase()}`,
    nodeTokenHash: `hash-${id}`,
    hostname: `gpu-box-${id.slice(-4)}`,
    agentVersion: '1.0.0',
    gpus: [{ index: 0, name: gpuName, gpuId: 'GPU-0', vramTotalMb: 24_564 }],
    gpuModelId,
    gpuName,
    gpuCount: 1,
    vramMb: 24_564,
    priceMicrosPerGpuHour: 1_000_000n,
    region: 'eu-west',
    simulated: false,
    listed: true,
    draining: false,
    state: 'offline',
    stateChangedAt: at,
    agentState: null,
    lastHeartbeatAt: null,
    lastSeq: null,
    lastTelemetry: null,
    runningAttempt: null,
    reservedForAttemptId: null,
    lastWrittenAt: null,
    createdAt: at,
    deletedAt: null,
  } as never);
  return id;
}

/**
 * A job of `customer` whose one attempt ran on `nodeId` from `runningAt` and ended `endedAt` with
 * `endReason`, settled through the real AttemptLifecycle (a real hold, real ledger lines).
 */
export async function seedEndedAttempt(
  t: TestApp,
  input: { customerOrgId: string; customerUserId: string; providerOrgId: string; nodeId: string; runningAt: Date; endedAt: Date; endReason: 'node_lost' | 'completed'; stepTimeMs?: number },
): Promise<{ jobId: string; attemptId: string }> {
  const billing = t.app.get(BillingService);
  const jobId = newId();
  const attemptId = newId();
  const hold = await billing.placeJobHold({ orgId: input.customerOrgId, jobId, quoteUpperMicros: 5_000_000n, budgetCapMicros: null });
  await t.dataSource.manager.insert(Job, {
    ...jobRow(jobId, input.customerOrgId, input.customerUserId, input.endReason === 'completed' ? 'succeeded' : 'failed', input.runningAt),
    holdMicros: hold.amountMicros,
    holdId: hold.holdId,
    updatedAt: input.endedAt,
    startedAt: input.runningAt,
    finishedAt: input.endedAt,
  } as never);
  await t.dataSource.manager.insert(Attempt, {
    id: attemptId,
    jobId,
    orgId: input.customerOrgId,
    number: 1,
    providerKind: 'community',
    offerId: `community:${input.nodeId}`,
    nodeId: input.nodeId,
    providerOrgId: input.providerOrgId,
    instanceId: null,
    gpuModel: 'rtx-4090',
    gpuCount: 1,
    priceMicrosPerGpuHour: 1_000_000n,
    status: 'ended',
    endReason: input.endReason,
    attemptTokenHash: `token-${attemptId}`,
    createdAt: new Date(input.runningAt.getTime() - MIN),
    runningAt: input.runningAt,
    endedAt: input.endedAt,
    lastSeenAt: input.endedAt,
    billableSeconds: null,
    costMicros: 0n,
    lastEventSeq: 0,
  } as never);
  const event = (at: Date, type: string, from: string | null, to: string | null, message: string) => ({ id: newId(), jobId, attemptId, at, type, fromStatus: from, toStatus: to, message, data: {} });
  await t.dataSource.manager.insert(JobEvent, [
    event(input.runningAt, 'status', 'provisioning', 'running', 'Training started.'),
    event(input.endedAt, 'status', 'running', input.endReason === 'completed' ? 'succeeded' : 'failed', input.endReason === 'completed' ? 'Finished.' : 'The machine stopped answering.'),
  ] as never);
  const metrics = [];
  const logs = [];
  for (let step = 1; step <= 60; step += 1) {
    const at = new Date(input.runningAt.getTime() + step * 10_000);
    metrics.push({ id: newId(), jobId, attemptId, at, step, loss: 2 - step / 100, stepTimeMs: input.stepTimeMs ?? 480 + (step % 5) * 10, gpuUtilizationPct: 95 });
    logs.push({ id: newId(), jobId, attemptId, seq: String(step), at, stream: 'stdout', line: `step ${step} loss ${(2 - step / 100).toFixed(2)}` });
  }
  await t.dataSource.manager.insert(JobMetric, metrics as never);
  await t.dataSource.manager.insert(JobLog, logs as never);
  await t.app.get(AttemptLifecycle).settle(attemptId);
  return { jobId, attemptId };
}

/** A jobs row in `status` (no hold unless the caller places one). */
export function jobRow(jobId: string, orgId: string, userId: string, status: JobStatus, at: Date) {
  const job = newJob(
    {
      id: jobId,
      orgId,
      createdBy: userId,
      name: 'llama-support-bot',
      recipe: { baseModelId: 'meta-llama/Llama-3.1-8B', method: 'lora', precision: 'bf16', quantization: 'none', sequenceLength: 2048, batchSize: 8, gradientAccumulation: 1, steps: 1000, validationPrompts: [] },
      datasetId: newId(),
      resources: { gpuModel: 'rtx-4090', gpuCount: 1 },
      providerAllowlist: ['community'],
      maxPriceMicrosPerGpuHour: null,
      budgetCapMicros: null,
      holdMicros: 0n,
      holdId: null,
      submittedQuote: null,
      steps: 1000,
      maxDurationSeconds: 86_400,
      maxAttempts: 1,
      idempotencyKey: null,
      requestHash: null,
    },
    at,
  );
  return { ...job, status, attemptCount: 1, waitReason: null, createdAt: new Date(at.getTime() - 2 * MIN) };
}
