import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AckPolicy } from '@nats-io/jetstream';
import { assignConsumerName, assignmentSchema, assignStreamSpec, assignSubject, openSignedMessage, type SecretBox } from '@anneal/providers';
import { ComputeFake, RunpodFake } from '@anneal/providers/testing';
import { expectEventually, freePort } from '@anneal/test/support';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_BOX } from '../../core/crypto/secret-box.provider.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { readyDataset, topUp } from '../../testing/fixtures.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';
import { TokenService } from '../auth/token.service.js';
import { BillingService } from '../billing/billing.service.js';
import { CloudNodesService } from '../nodes/cloud-nodes.service.js';
import { PLATFORM_KEYS, type PlatformKeys } from '../nodes/platform-keys.js';
import { SimulatedNode } from '../nodes/node-sim.js';
import { NodesConsumer } from '../nodes/nodes.consumer.js';
import { ProvidersService } from '../provider-accounts/providers.service.js';
import { cloudProviderOrgId } from './jobs.bindings.js';
import { COMPUTE_PORT, type ComputePort } from './jobs.ports.js';
import { SchedulerService } from './scheduler.service.js';

const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 256, batchSize: 4, steps: 100 };
const RUNPOD_KEY = 'rp-secret-key-0123456789';
const GCP_TOKEN = 'ya29.fake-gcp-access-token';
const PUBLIC_URL = 'https://api.anneal.test';

interface AttemptRow {
  id: string;
  status: string;
  end_reason: string | null;
  node_id: string | null;
  instance_id: string | null;
  provider_org_id: string;
  attempt_token_hash: string;
}

async function attemptOf(t: TestApp, jobId: string): Promise<AttemptRow> {
  const rows: AttemptRow[] = await t.dataSource.query('SELECT id, status, end_reason, node_id, instance_id, provider_org_id, attempt_token_hash FROM attempts WHERE job_id = $1 ORDER BY number DESC LIMIT 1', [jobId]);
  if (!rows[0]) throw new Error(`job ${jobId} has no attempt`);
  return rows[0];
}

/**
 * Cloud attempts: a one-time join token bound to the attempt, handed to the machine by the adapter;
 * the machine's agent joins and gets the assignment; a machine that stops answering is asked about.
 */
describe('cloud attempts: attempt-bound join tokens (RunPod pods and GCP VMs against their local fakes)', () => {
  let t: TestApp;
  let fake: RunpodFake;
  let compute: ComputeFake;
  const clock = new TestClock();
  let scheduler: SchedulerService;
  let nats: NatsService;
  let customer: Awaited<ReturnType<typeof signUp>>;
  let datasetId: string;

  beforeAll(async () => {
    fake = await new RunpodFake(RUNPOD_KEY).start();
    compute = await new ComputeFake(GCP_TOKEN).start();
    t = await startTestApp({
      clock,
      s3: true,
      overrides: {
        PUBLIC_API_URL: PUBLIC_URL,
        RUNPOD_API_KEY: RUNPOD_KEY,
        RUNPOD_API_URL: fake.restBaseUrl,
        // One GPU type per placement below: a scheduler round places one job per offer.
        RUNPOD_POD_GPU_TYPES: JSON.stringify(
          [
            ['NVIDIA GeForce RTX 4090', 690000],
            ['NVIDIA RTX A6000', 790000],
            ['NVIDIA L40S', 990000],
            ['NVIDIA A100 80GB PCIe', 1640000],
          ]
            .map(([gpuTypeId, price]) => ({ gpuTypeId, gpuCounts: [1], onDemandMicrosPerGpuHour: price, region: 'EU-RO-1' }))
            // Sold as spot pods too (interruptible), much cheaper: a job for it gets a spot pod.
            .concat({ gpuTypeId: 'NVIDIA RTX A5000', gpuCounts: [1], onDemandMicrosPerGpuHour: 290_000, spotMicrosPerGpuHour: 160_000, region: 'EU-RO-1' } as never),
        ),
      },
    });
    // GCP as an admin stores it (credentials sealed), pointed at the Compute REST fake, spot VMs offered.
    await t.dataSource.query(`INSERT INTO provider_credentials (kind, sealed_credentials, config, updated_at) VALUES ('gcp', $1, $2, now())`, [
      t.app.get<SecretBox>(SECRET_BOX).seal(JSON.stringify({ type: 'access_token', accessToken: GCP_TOKEN })),
      { projectId: 'anneal-test', zones: ['us-central1-a'], endpoint: { host: '127.0.0.1', port: compute.port, protocol: 'http' }, offerSpot: true },
    ]);
    t.app.get(ProvidersService).reload();
    scheduler = t.app.get(SchedulerService);
    nats = t.app.get(NatsService);
    customer = await signUp(t.http);
    await topUp(t.http, customer.accessToken, '20.00');
    datasetId = (await readyDataset(t.http, customer.accessToken)).id;
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
    await compute?.stop();
  });

  async function placeRunpodJob(gpuModel: string): Promise<{ jobId: string; attempt: AttemptRow; joinToken: string; podId: string; env: Record<string, string> }> {
    const submitted = await t.http.post('/v1/jobs', { recipe, datasetId, resources: { gpuModel, gpuCount: 1 }, providers: ['runpod'], budgetCap: '2.00' }, customer.accessToken);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const before = fake.requests.length;
    await scheduler.tick();
    await scheduler.provisioned();
    const created = fake.requests.slice(before).filter((request) => request.method === 'POST' && request.path === '/v1/pods');
    expect(created).toHaveLength(1);
    const body = created[0]!.body as { env: Record<string, string>; name: string };
    const attempt = await attemptOf(t, submitted.body.id);
    expect(attempt.status).toBe('provisioning');
    const podId = [...fake.pods.entries()].find(([, pod]) => pod['name'] === body.name)?.[0];
    expect(podId).toBeDefined();
    return { jobId: submitted.body.id, attempt, joinToken: body.env.ANNEAL_JOIN_TOKEN!, podId: podId!, env: body.env };
  }

  async function placeGcpJob(gpuModel: string): Promise<{ jobId: string; attempt: AttemptRow; zone: string; name: string; scheduling: Record<string, unknown> }> {
    const submitted = await t.http.post('/v1/jobs', { recipe, datasetId, resources: { gpuModel, gpuCount: 1 }, providers: ['gcp'], budgetCap: '2.00' }, customer.accessToken);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const before = compute.requests.length;
    await scheduler.tick();
    await scheduler.provisioned();
    const inserted = compute.requests.slice(before).filter((request) => request.method === 'POST' && /\/instances$/.test(request.path));
    expect(inserted).toHaveLength(1);
    const body = inserted[0]!.body as { name: string; scheduling: Record<string, unknown> };
    const attempt = await attemptOf(t, submitted.body.id);
    expect(attempt).toMatchObject({ status: 'provisioning', instance_id: `us-central1-a/${body.name}` });
    return { jobId: submitted.body.id, attempt, zone: 'us-central1-a', name: body.name, scheduling: body.scheduling };
  }

  /** A machine with one GPU of this name, as its agent reports it (mapped onto the catalog at registration). */
  function machineWith(gpuName: string): SimulatedNode {
    return new SimulatedNode(nats.prefix, undefined, [{ index: 0, name: gpuName, gpuId: null, vramTotalMb: null, vramUsedMb: null, utilizationPct: 0, temperatureC: 30, powerW: null }]);
  }

  async function join(token: string, node = new SimulatedNode(nats.prefix)) {
    return { node, response: await t.http.post('/v1/provider/nodes/join', node.joinRequest(token)) };
  }

  /** The assignment waiting on the node's assign subject, as its agent receives it: opened with the platform's public key (null when the signature does not verify). */
  async function assignmentOf(node: SimulatedNode) {
    const stream = assignStreamSpec(nats.prefix).name;
    const durable = assignConsumerName(node.nodeId);
    await nats.manager.consumers.add(stream, { durable_name: durable, filter_subject: assignSubject(nats.prefix, node.nodeId), ack_policy: AckPolicy.Explicit });
    const message = await (await nats.jetstream.consumers.get(stream, durable)).next({ expires: 5_000 });
    expect(message).not.toBeNull();
    const opened = openSignedMessage(assignmentSchema, message!.subject, message!.data, t.app.get<PlatformKeys>(PLATFORM_KEYS).publicKey);
    message!.ack();
    return opened.ok ? opened.value : null;
  }

  it('a RunPod pod gets a one-time join token bound to its attempt in its environment, stored only as a keyed hash, never logged', async () => {
    const { attempt, joinToken, podId, env } = await placeRunpodJob('RTX 4090');
    expect(attempt.instance_id).toBe(podId);
    expect(env).toMatchObject({ ANNEAL_API_URL: PUBLIC_URL, ANNEAL_PRICE_USD: '0.69', ANNEAL_REGION: 'eu-ro-1' });
    expect(joinToken).toMatch(/^njt_[A-Za-z0-9_-]{32}$/);
    const rows: { org_id: string; token_hash: string; created_by: string | null; used_at: Date | null; expires_at: Date; created_at: Date; assignment_sealed: string }[] = await t.dataSource.query(
      'SELECT org_id, token_hash, created_by, used_at, expires_at, created_at, assignment_sealed FROM node_join_tokens WHERE attempt_id = $1',
      [attempt.id],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.token_hash).toBe(t.app.get(TokenService).hashSecret(joinToken));
    expect(row).toMatchObject({ org_id: cloudProviderOrgId('runpod'), created_by: null, used_at: null });
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(30 * 60_000);
    // The assignment (with the attempt token in it) waits sealed, not in the clear.
    expect(row.assignment_sealed).toMatch(/^v1\./);
    expect(row.assignment_sealed).not.toContain('att_');
    expect(t.logLines.join('\n')).not.toContain(joinToken);
  });

  it('the machine that joins with it becomes the attempt’s node: the cloud provider’s, unlisted, reserved, and gets the signed assignment; the token works once', async () => {
    const { jobId, attempt, joinToken } = await placeRunpodJob('RTX A6000');
    const { node, response } = await join(joinToken, machineWith('NVIDIA RTX A6000'));
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    node.joined(response.body);

    const [row]: { org_id: string; listed: boolean; reserved_for_attempt_id: string; bound_attempt_id: string; price_micros_per_gpu_hour: string }[] = await t.dataSource.query(
      'SELECT org_id, listed, reserved_for_attempt_id, bound_attempt_id, price_micros_per_gpu_hour FROM nodes WHERE id = $1',
      [node.nodeId],
    );
    // Owned by RunPod's system organization (never the customer's), billed at the attempt's price whatever the agent asked.
    expect(row).toEqual({ org_id: cloudProviderOrgId('runpod'), listed: false, reserved_for_attempt_id: attempt.id, bound_attempt_id: attempt.id, price_micros_per_gpu_hour: '790000' });
    expect(row!.org_id).not.toBe(customer.orgId);
    expect((await attemptOf(t, jobId)).node_id).toBe(node.nodeId);

    // The assignment is on the node's assign subject, addressed to it, signed with the platform key, carrying this attempt's token.
    const assignment = await assignmentOf(node);
    expect(assignment).not.toBeNull();
    expect(assignment!.nodeId).toBe(node.nodeId);
    expect(assignment!.attempt.attemptId).toBe(attempt.id);
    expect(createHash('sha256').update(assignment!.attemptToken).digest('hex')).toBe(attempt.attempt_token_hash);
    const [token]: { used_at: Date | null; node_id: string; assignment_sealed: string | null; assignment_published_at: Date | null }[] = await t.dataSource.query(
      'SELECT used_at, node_id, assignment_sealed, assignment_published_at FROM node_join_tokens WHERE attempt_id = $1',
      [attempt.id],
    );
    expect(token).toMatchObject({ node_id: node.nodeId, assignment_sealed: null });
    expect(token!.used_at).not.toBeNull();
    expect(token!.assignment_published_at).not.toBeNull();

    // Once: a second machine with the same token is refused, and registers nothing.
    const again = await join(joinToken);
    expect(again.response.status).toBe(401);
    expect(again.response.body.code).toBe('join_token_invalid');
    expect(await t.dataSource.query('SELECT 1 FROM nodes WHERE public_key = $1', [again.node.keys.publicKey])).toEqual([]);

    // Online, it is still offered to nobody.
    nats.connection.publish(node.subject, node.encode(node.heartbeat({}, clock.now())));
    await expectEventually(() => t.app.get(NodesConsumer).liveState(node.nodeId) === 'online');
    const offers = await t.http.get('/v1/offers', customer.accessToken);
    expect(offers.body.offers.some((offer: { offerId: string }) => offer.offerId === `community:${node.nodeId}`)).toBe(false);

    // Not in any customer's or provider's console: the customer made a provider sees no such node.
    expect((await t.http.post(`/v1/orgs/${customer.orgId}/provider`, {}, customer.accessToken)).status).toBe(200);
    expect((await t.http.get('/v1/provider/nodes', customer.accessToken)).body).toEqual([]);
    expect((await t.http.get(`/v1/provider/nodes/${node.nodeId}`, customer.accessToken)).status).toBe(404);

    // The customer cancels: the pod is deleted through the adapter, the node retired with its credentials.
    const podsBefore = fake.pods.size;
    expect((await t.http.post(`/v1/jobs/${jobId}/cancel`, {}, customer.accessToken)).status).toBe(200);
    await scheduler.sweep();
    expect((await attemptOf(t, jobId)).status).toBe('ended');
    expect(fake.pods.size).toBe(podsBefore - 1);
    expect(fake.requests.some((request) => request.method === 'DELETE' && request.path === `/v1/pods/${attempt.instance_id}`)).toBe(true);
    const [retired]: { deleted_at: Date | null; node_token_hash: string | null; heartbeat_key_sealed: string | null; reserved_for_attempt_id: string | null }[] = await t.dataSource.query(
      'SELECT deleted_at, node_token_hash, heartbeat_key_sealed, reserved_for_attempt_id FROM nodes WHERE id = $1',
      [node.nodeId],
    );
    expect(retired).toMatchObject({ node_token_hash: null, heartbeat_key_sealed: null, reserved_for_attempt_id: null });
    expect(retired!.deleted_at).not.toBeNull();
    expect(t.app.get(NodesConsumer).live(node.nodeId)).toBeUndefined();
    expect((await t.http.get(`/v1/jobs/${jobId}`, customer.accessToken)).body.status).toBe('canceled');
  });

  it('counts the budget stop from when the machine joined, not from when it was started: its boot time is not taken from the run', async () => {
    // $2.00 of budget at $0.69/GPU-h on 1 GPU: 10,434,782 ms of training.
    const { attempt, joinToken } = await placeRunpodJob('RTX 4090');
    clock.advance(4 * 60_000); // the pod boots and its agent starts
    const joining = clock.now().getTime();
    const { node, response } = await join(joinToken);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    node.joined(response.body);
    const joined = clock.now().getTime();

    // Issued (and signed) at the join, and the whole budget counted from there.
    const assignment = await assignmentOf(node);
    expect(assignment).not.toBeNull();
    expect(assignment!.attempt.attemptId).toBe(attempt.id);
    const issuedAt = Date.parse(assignment!.issuedAt);
    expect(issuedAt).toBeGreaterThanOrEqual(joining);
    expect(issuedAt).toBeLessThanOrEqual(joined);
    expect(Date.parse(assignment!.attempt.budgetStopAt!)).toBe(issuedAt + 10_434_782);
  });

  it('refuses a machine that is not what its attempt rented: nothing registered, the attempt fails over, the pod is deleted', async () => {
    const { jobId, attempt, joinToken, podId } = await placeRunpodJob('L40S');
    // The pod that came up has an RTX 4090 (SimulatedNode's GPU), not the L40S the attempt rented.
    const refused = await join(joinToken);
    expect(refused.response.status).toBe(422);
    expect(refused.response.body).toMatchObject({ code: 'machine_mismatch', message: expect.stringContaining('The machine has 1 × RTX 4090, but its attempt rented 1 × L40S') });
    expect(await t.dataSource.query('SELECT 1 FROM nodes WHERE public_key = $1', [refused.node.keys.publicKey])).toEqual([]);

    // A failed provision: the attempt ended unbilled, the job back to matching with the reason.
    const [ended]: { status: string; end_reason: string; node_id: string | null; billable_seconds: number }[] = await t.dataSource.query(
      'SELECT status, end_reason, node_id, billable_seconds FROM attempts WHERE id = $1',
      [attempt.id],
    );
    expect(ended).toEqual({ status: 'ended', end_reason: 'error', node_id: null, billable_seconds: 0 });
    const job = (await t.http.get(`/v1/jobs/${jobId}`, customer.accessToken)).body;
    expect(job.status).toBe('queued');
    expect(job.waitingBecause).toBe('The machine has 1 × RTX 4090, but its attempt rented 1 × L40S; matching another offer.');
    // The pod is deleted through the adapter.
    expect(fake.pods.has(podId)).toBe(false);
    expect(fake.requests.some((request) => request.method === 'DELETE' && request.path === `/v1/pods/${podId}`)).toBe(true);
    // The token is spent with its attempt: even the right machine is refused now.
    expect((await join(joinToken, machineWith('NVIDIA L40S'))).response.body.code).toBe('join_token_invalid');
    expect((await t.http.post(`/v1/jobs/${jobId}/cancel`, {}, customer.accessToken)).status).toBe(200);
  });

  it('tells a spot machine its provider reclaimed from a lost one: a RunPod pod outbid or a GCP spot VM preempted is `preempted`, anything else `node_lost`', async () => {
    const cloudNodes = t.app.get(CloudNodesService);
    const consumer = t.app.get(NodesConsumer);
    const lostNow = (attemptId: string) => cloudNodes.lostMachines([attemptId]).then((lost) => lost.get(attemptId));

    // A RunPod spot pod whose agent joined, came online, then went silent: the sweep's lost node.
    const pod = await placeRunpodJob('RTX A5000');
    expect(fake.pods.get(pod.podId)?.['interruptible']).toBe(true);
    const { node, response } = await join(pod.joinToken, machineWith('NVIDIA RTX A5000'));
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    node.joined(response.body);
    nats.connection.publish(node.subject, node.encode(node.heartbeat({}, clock.now())));
    await expectEventually(() => consumer.liveState(node.nodeId) === 'online');
    clock.advance(11_000);
    await consumer.sweep();
    expect(consumer.liveState(node.nodeId)).toBe('offline');
    await expectEventually(async () => (await t.app.get<ComputePort>(COMPUTE_PORT).attemptsOnLostNodes()).includes(pod.attempt.id));
    // The pod still runs at RunPod (the agent died, the network went): lost.
    expect(await lostNow(pod.attempt.id)).toEqual({ reason: 'node_lost', message: 'The machine stopped sending heartbeats.' });
    // RunPod outbid it: "Outbid: <date>" on the stopped pod.
    fake.outbid(pod.podId);
    expect(await lostNow(pod.attempt.id)).toEqual({ reason: 'preempted', message: 'RunPod reclaimed the spot machine.' });

    // A GCP spot VM: lost while it exists, preempted once GCE records a compute.instances.preempted operation for it.
    const vm = await placeGcpJob('L4');
    expect(vm.scheduling).toMatchObject({ provisioningModel: 'SPOT' });
    expect(await lostNow(vm.attempt.id)).toEqual({ reason: 'node_lost', message: 'The machine stopped sending heartbeats.' });
    compute.preempt(vm.zone, vm.name);
    expect(await lostNow(vm.attempt.id)).toEqual({ reason: 'preempted', message: 'GCP reclaimed the spot machine.' });

    // Several at once (the sweep's batch); an attempt nobody knows is simply lost.
    const unknown = '01a20000-0000-7000-8000-0000000000ff';
    const batch = await cloudNodes.lostMachines([pod.attempt.id, vm.attempt.id, unknown]);
    expect([...batch].map(([id, lost]) => [id, lost.reason])).toEqual([
      [pod.attempt.id, 'preempted'],
      [vm.attempt.id, 'preempted'],
      [unknown, 'node_lost'],
    ]);

    // The scheduler's sweep ends the reclaimed pod's attempt `preempted` (not `node_lost`) and requeues the job.
    await scheduler.sweep();
    expect(await attemptOf(t, pod.jobId)).toMatchObject({ id: pod.attempt.id, status: 'ended', end_reason: 'preempted' });
    const requeued = await t.http.get(`/v1/jobs/${pod.jobId}`, customer.accessToken);
    expect(requeued.body.status).toBe('queued');
    // Not placed again by the next tests' rounds.
    expect((await t.http.post(`/v1/jobs/${pod.jobId}/cancel`, {}, customer.accessToken)).status).toBe(200);
  });

  it('refuses an attempt-bound token once its attempt ended; a machine that never joins is ended by the provisioning timeout and terminated; tokens expire', async () => {
    const first = await placeRunpodJob('L40S');
    const second = await placeRunpodJob('A100 80GB PCIe');
    // Expired (30 minutes) while its attempt still waits: refused, nothing registered, the attempt untouched.
    clock.advance(31 * 60_000);
    const expired = await join(second.joinToken);
    expect(expired.response.status).toBe(401);
    expect(expired.response.body.code).toBe('join_token_invalid');
    expect((await attemptOf(t, second.jobId)).node_id).toBeNull();

    // The provisioning timeout ends both attempts and deletes their pods.
    await scheduler.sweep();
    for (const placed of [first, second]) {
      const ended = await attemptOf(t, placed.jobId);
      expect(ended).toMatchObject({ status: 'ended', end_reason: 'error', node_id: null });
      expect(fake.pods.has(placed.podId)).toBe(false);
    }
    // The first token has not expired, but its attempt is over: a late machine is refused.
    const late = await join(first.joinToken);
    expect(late.response.status).toBe(401);
    expect(late.response.body.code).toBe('join_token_invalid');
    expect(await t.dataSource.query('SELECT 1 FROM nodes WHERE public_key = $1', [late.node.keys.publicKey])).toEqual([]);
  });
});

const agentMain = resolve(import.meta.dirname, '../../../../node-agent/dist/main.js');

function runAgent(args: string[], home: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [agentMain, ...args], { env: { PATH: process.env.PATH, ANNEAL_AGENT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  return { child, output: () => output, exited: new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code))) };
}

/** What the VM's startup script would export, read from the script the adapter sent. */
function scriptValue(script: string, name: string): string {
  const match = new RegExp(`^export ${name}=(?:'([^']*)'|(\\S+))$`, 'm').exec(script);
  if (!match) throw new Error(`the startup script sets no ${name}`);
  return match[1] ?? match[2]!;
}

/**
 * The whole way for a cloud attempt: the scheduler inserts a GCP instance (real
 * `@google-cloud/compute` client against the local Compute REST fake) whose metadata carries the
 * join token and the API URL; the test plays the VM and runs the built anneal-agent with them; the
 * job trains, succeeds, is billed to GCP's payable, and the instance is deleted.
 */
describe('a GCP attempt end to end (Compute REST fake, the real anneal-agent)', () => {
  let t: TestApp;
  let fake: ComputeFake;
  let home: string;
  let daemon: ReturnType<typeof runAgent> | undefined;

  beforeAll(async () => {
    if (!existsSync(agentMain)) throw new Error(`build anneal-agent first (npx nx run @anneal/node-agent:build): ${agentMain} is missing`);
    fake = await new ComputeFake('ya29.fake-gcp-access-token').start();
    const port = await freePort();
    t = await startTestApp({ s3: true, overrides: { PORT: String(port), PUBLIC_API_URL: `http://127.0.0.1:${port}`, ALLOW_SIMULATED_NODES: 'true', SCHEDULER_ENABLED: 'true' } });
    home = mkdtempSync(join(tmpdir(), 'anneal-cloud-agent-'));
  });
  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    rmSync(home, { recursive: true, force: true });
    await t?.close();
    await fake?.stop();
  });

  it('provisions a VM with the agent bootstrap, runs the job on its agent, bills GCP’s payable and deletes the VM', async () => {
    const admin = await signUp(t.http);
    await t.dataSource.query('UPDATE users SET is_admin = true WHERE id = $1', [admin.userId]);
    const enrol = await t.http.post('/v1/auth/2fa/enroll', {}, admin.accessToken);
    expect((await t.http.post('/v1/auth/2fa/verify', { code: await generate({ secret: enrol.body.secret, epoch: Math.floor(Date.now() / 1000) }) }, admin.accessToken)).status).toBe(200);
    const gcp = await t.http.request('PUT', '/v1/admin/providers/gcp', {
      token: admin.accessToken,
      body: {
        credentials: { type: 'access_token', accessToken: 'ya29.fake-gcp-access-token' },
        config: { projectId: 'anneal-test', zones: ['us-central1-a'], endpoint: { host: '127.0.0.1', port: fake.port, protocol: 'http' }, offerSpot: false },
      },
    });
    expect(gcp.status, JSON.stringify(gcp.body)).toBe(200);

    const customer = await signUp(t.http);
    await topUp(t.http, customer.accessToken, '20.00');
    const dataset = Buffer.from(Array.from({ length: 200 }, (_, i) => JSON.stringify({ prompt: `How do I reset password ${i % 4}?`, completion: 'Open settings and choose reset password.' })).join('\n') + '\n');
    const { id: datasetId } = await readyDataset(t.http, customer.accessToken, {}, dataset);
    // 600 steps: seconds of the synthetic trainer, so whole billed seconds are charged.
    const submitted = await t.http.post(
      '/v1/jobs',
      { name: 'on gcp', recipe: { ...recipe, steps: 600 }, datasetId, resources: { gpuModel: 'L4', gpuCount: 1 }, providers: ['gcp'], budgetCap: '5.00' },
      customer.accessToken,
    );
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const jobId = submitted.body.id as string;

    // The scheduler inserted the instance; its metadata holds the bootstrap, the script no secret.
    const insert = await expectEventually(() => {
      const found = fake.requestsTo('POST', /\/zones\/us-central1-a\/instances$/)[0];
      if (!found) throw new Error(`no instance inserted yet: ${JSON.stringify((t.logLines.slice(-5)))}`);
      return found;
    }, 30_000);
    const resource = insert.body as { name: string; guestAccelerators?: { acceleratorType: string; acceleratorCount: number }[]; metadata: { items: { key: string; value: string }[] } };
    const metadata = new Map(resource.metadata.items.map((item) => [item.key, item.value]));
    const script = metadata.get('startup-script')!;
    const joinToken = metadata.get('anneal-join-token')!;
    expect(script).toContain('anneal-agent register --api "$ANNEAL_API_URL" --token "$ANNEAL_JOIN_TOKEN"');
    expect(script).not.toContain(joinToken);
    const apiUrl = scriptValue(script, 'ANNEAL_API_URL');
    expect(apiUrl).toBe(t.config.PUBLIC_API_URL);
    const attempt = await expectEventually(async () => {
      const row = await attemptOf(t, jobId);
      expect(row.instance_id).toBe(`us-central1-a/${resource.name}`);
      return row;
    }, 30_000);
    expect(attempt.provider_org_id).toBe(cloudProviderOrgId('gcp'));

    // The VM boots: its startup script registers anneal-agent with the token and runs it.
    const register = runAgent(['register', '--api', apiUrl, '--token', joinToken, '--price', scriptValue(script, 'ANNEAL_PRICE_USD'), '--region', scriptValue(script, 'ANNEAL_REGION'), '--simulate', '1x L4'], home);
    expect(await register.exited, register.output()).toBe(0);
    daemon = runAgent(['run', '--heartbeat-interval-ms', '500'], home);

    // Until it succeeded and was billed, or went wrong (ended, or moved to another attempt).
    const job = await expectEventually(async () => {
      const current = (await t.http.get(`/v1/jobs/${jobId}`, customer.accessToken)).body;
      const billed = current.status === 'succeeded' && current.attempts[0]?.billableSeconds !== null;
      const wrong = ['failed', 'canceled'].includes(current.status) || current.attempts.length > 1;
      if (!billed && !wrong) throw new Error(`job ${current.status}\n${daemon!.output().slice(-2000)}`);
      return current;
    }, 150_000, 500);
    if (job.status !== 'succeeded') {
      const events = await t.http.get(`/v1/jobs/${jobId}/events`, customer.accessToken);
      throw new Error(`job ${job.status} after ${job.attempts.length} attempts: ${JSON.stringify(events.body.map((e: { message: string }) => e.message))}\n${daemon!.output()}`);
    }
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0]).toMatchObject({ providerKind: 'gcp', endReason: 'completed' });
    const events = await t.http.get(`/v1/jobs/${jobId}/events`, customer.accessToken);
    expect(events.body.filter((e: { type: string }) => e.type === 'status').map((e: { to: string }) => e.to)).toEqual(['matching', 'provisioning', 'running', 'uploading', 'succeeded']);

    // The machine was the attempt's own node, in GCP's organization, now retired.
    const nodeId = job.attempts[0].nodeId as string;
    const [node]: { org_id: string; bound_attempt_id: string; listed: boolean; simulated: boolean; deleted_at: Date | null; node_token_hash: string | null }[] = await t.dataSource.query(
      'SELECT org_id, bound_attempt_id, listed, simulated, deleted_at, node_token_hash FROM nodes WHERE id = $1',
      [nodeId],
    );
    expect(node).toMatchObject({ org_id: cloudProviderOrgId('gcp'), bound_attempt_id: attempt.id, listed: false, simulated: true, node_token_hash: null });
    expect(node!.deleted_at).not.toBeNull();

    // Money: the customer paid exactly the job's cost; GCP's payable got the provider share of it.
    const costMicros = BigInt(job.actual.costMicros);
    expect(costMicros).toBeGreaterThan(0n);
    const balance = await t.http.get('/v1/billing/balance', customer.accessToken);
    expect(BigInt(balance.body.available.micros) + costMicros).toBe(20_000_000n);
    expect(BigInt(balance.body.held.micros)).toBe(0n);
    const { payableMicros } = await t.app.get(BillingService).store.getProviderBalance(cloudProviderOrgId('gcp'));
    expect(payableMicros).toBe(costMicros - (costMicros * BigInt(t.config.PLATFORM_FEE_BPS)) / 10_000n);

    // The instance is deleted through the adapter.
    await expectEventually(() => fake.requestsTo('DELETE', new RegExp(`/zones/us-central1-a/instances/${resource.name}$`)).length === 1, 10_000);
    await expectEventually(() => fake.instances.size === 0, 10_000);
    expect(t.logLines.join('\n')).not.toContain(joinToken);
  }, 240_000);
});
