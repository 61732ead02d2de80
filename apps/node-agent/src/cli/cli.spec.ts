import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupGpu } from '@anneal/benchmarks';
import { createHeartbeatKey, createNodeKeys, joinRequestSchema, type JoinRequest } from '@anneal/providers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandRunner } from '../gpu/command-runner.js';
import type { FetchFn } from '../join/join.client.js';
import { runCli, type CliDeps } from './cli.js';

const API_KEY = createNodeKeys().publicKey;
const HEARTBEAT_KEY = createHeartbeatKey();
let home: string;
let out: string;
let err: string;
let joinRequests: JoinRequest[];

const noNvidia: CommandRunner = async () => ({ exitCode: null, stdout: '', stderr: '', failure: 'not_found' });
const twoL4: CommandRunner = async () => ({
  exitCode: 0,
  stdout: '0, NVIDIA L4, 23034, 0, 0, 41, 16.38\n1, NVIDIA L4, 23034, 0, 0, 39, [N/A]\n',
  stderr: '',
  failure: null,
});

const joiningApi: FetchFn = async (_url, init) => {
  joinRequests.push(joinRequestSchema.parse(JSON.parse(init.body)));
  const body = {
    schemaVersion: 1,
    nodeId: `node-${joinRequests.length}`,
    natsUrl: 'nats://127.0.0.1:4222',
    natsAuth: { kind: 'token', token: 'nats-token-1234' },
    subjectPrefix: '',
    nodeToken: 'node-token-0123456789abcdef',
    apiPublicKey: API_KEY,
    heartbeatKey: HEARTBEAT_KEY,
  };
  return { ok: true, status: 201, text: async () => JSON.stringify(body) };
};

function deps(overrides: Partial<CliDeps> = {}): CliDeps {
  return {
    env: { ANNEAL_AGENT_HOME: home },
    stdout: (text) => void (out += text),
    stderr: (text) => void (err += text),
    fetch: joiningApi,
    runCommand: noNvidia,
    lookupGpu,
    nowMs: () => Date.parse('2026-11-22T07:30:00Z'),
    hostname: () => 'gpu-box-1',
    onShutdownSignal: () => () => {},
    ...overrides,
  };
}

const register = ['register', '--api', 'https://api.anneal.test', '--token', 'join-token-abc', '--price', '0.45'];

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'anneal-agent-cli-'));
  out = '';
  err = '';
  joinRequests = [];
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('anneal-agent register', () => {
  it('registers a simulated host and stores credentials readable only by its user (0600)', async () => {
    const code = await runCli([...register, '--region', 'eu-west', '--simulate', '2x RTX 4090'], deps());
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const path = join(home, 'credentials.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o077).toBe(0);
    const stored = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ nodeId: 'node-1', nodeToken: 'node-token-0123456789abcdef', apiUrl: 'https://api.anneal.test', simulate: '2x RTX 4090', apiPublicKey: API_KEY, heartbeatKey: HEARTBEAT_KEY });
    expect(stored.nkeySeed).toMatch(/^SU/);
    const [request] = joinRequests;
    expect(request).toMatchObject({ joinToken: 'join-token-abc', priceMicrosPerGpuHour: '450000', region: 'eu-west', simulated: true, hostname: 'gpu-box-1' });
    expect(request!.gpus.map((gpu) => gpu.gpuId)).toEqual(['rtx-4090', 'rtx-4090']);
    expect(out).toMatch(/Registered node node-1: 2× NVIDIA GeForce RTX 4090 \(simulated\), 0.45 USD per GPU-hour, region eu-west/);
    expect(out).not.toContain('node-token');
    expect(out).not.toContain(HEARTBEAT_KEY);
  });

  it('registers the GPUs nvidia-smi reports on a real host', async () => {
    expect(await runCli(register, deps({ runCommand: twoL4 }))).toBe(0);
    expect(joinRequests[0]).toMatchObject({ simulated: false, gpus: [{ gpuId: 'l4', powerW: 16.38 }, { gpuId: 'l4', powerW: null }] });
  });

  it('refuses a host without GPUs unless simulated, and says how', async () => {
    expect(await runCli(register, deps())).toBe(1);
    expect(err).toMatch(/^error \[no_gpus\]: No NVIDIA GPU found: nvidia-smi is not installed.*--simulate "2x RTX 4090"/);
    expect(joinRequests).toEqual([]);
  });

  it.each([
    [['--price', 'cheap'], 'invalid_price'],
    [['--price', '0'], 'invalid_price'],
    [['--simulate', '2x RTX 9999'], 'unknown_gpu'],
    [['--simulate', '99x RTX 4090'], 'invalid_simulate'],
    [['--region', 'eu west'], 'invalid_region'],
    [['--api', 'localhost'], 'invalid_api_url'],
    [['--bogus'], 'invalid_arguments'],
  ])('exits 2 with a clear message for %j', async (extra, code) => {
    expect(await runCli([...register, ...extra], deps())).toBe(2);
    expect(err).toMatch(new RegExp(`^error \\[${code}\\]: `));
    expect(joinRequests).toEqual([]);
  });

  it('names a missing required flag', async () => {
    expect(await runCli(['register', '--token', 't', '--price', '1'], deps())).toBe(2);
    expect(err).toContain('--api is required');
  });

  it('does not overwrite a registration without --force', async () => {
    expect(await runCli([...register, '--simulate', 'L4'], deps())).toBe(0);
    expect(await runCli([...register, '--simulate', 'L4'], deps())).toBe(1);
    expect(err).toMatch(/already_registered/);
    expect(await runCli([...register, '--simulate', 'L4', '--force'], deps())).toBe(0);
    expect(JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8'))).toMatchObject({ nodeId: 'node-2' });
  });

  it("reports the API's refusal", async () => {
    const refusing: FetchFn = async () => ({ ok: false, status: 401, text: async () => JSON.stringify({ code: 'join_token_invalid', message: 'Unknown join token.' }) });
    expect(await runCli([...register, '--simulate', 'L4'], deps({ fetch: refusing }))).toBe(1);
    expect(err).toBe('error [join_failed]: The API refused the registration (HTTP 401, join_token_invalid): Unknown join token.\n');
  });
});

describe('anneal-agent run / status', () => {
  it('refuses to run before registration', async () => {
    expect(await runCli(['run'], deps())).toBe(1);
    expect(err).toMatch(/not_registered/);
  });

  it('refuses credentials other users can read', async () => {
    await runCli([...register, '--simulate', 'L4'], deps());
    chmodSync(join(home, 'credentials.json'), 0o644);
    expect(await runCli(['status'], deps())).toBe(1);
    expect(err).toMatch(/credentials_insecure.*chmod 600/);
  });

  it('will not fake GPUs for a node registered as real', async () => {
    await runCli(register, deps({ runCommand: twoL4 }));
    expect(await runCli(['run', '--simulate', '2x RTX 4090'], deps({ runCommand: twoL4 }))).toBe(1);
    expect(err).toMatch(/simulate_mismatch/);
  });

  it('refuses to run a real node whose GPUs are gone', async () => {
    await runCli(register, deps({ runCommand: twoL4 }));
    expect(await runCli(['run'], deps({ runCommand: noNvidia }))).toBe(1);
    expect(err).toMatch(/no_gpus/);
  });

  it('validates run flags', async () => {
    expect(await runCli(['run', '--heartbeat-interval-ms', '5'], deps())).toBe(2);
    expect(err).toMatch(/--heartbeat-interval-ms must be a whole number between 50 and 60000/);
  });

  it('validates runner flags before anything starts', async () => {
    expect(await runCli(['run', '--runner', 'kubernetes'], deps())).toBe(2);
    expect(err).toMatch(/invalid_arguments.*--runner must be one of container, process, synthetic/);
    err = '';
    expect(await runCli(['run', '--runner', 'container', '--command', 'python train.py'], deps())).toBe(2);
    expect(err).toMatch(/--command is for the process runner/);
    err = '';
    expect(await runCli(['run', '--command', '  '], deps())).toBe(2);
    expect(err).toMatch(/--command must not be empty/);
    err = '';
    expect(await runCli(['run', '--image', '--privileged'], deps())).toBe(2);
    err = '';
    expect(await runCli(['run', '--image', 'img;rm -rf /'], deps())).toBe(2);
    expect(err).toMatch(/--image must be an image reference/);
  });

  it('shows the last heartbeat, GPUs and attempt the daemon reported', async () => {
    await runCli([...register, '--simulate', '2x RTX 4090'], deps());
    const heartbeat = {
      schemaVersion: 1,
      type: 'heartbeat',
      nodeId: 'node-1',
      seq: 42,
      sentAt: '2026-11-22T07:29:59.000Z',
      agentVersion: '0.1.0',
      uptimeS: 61,
      simulated: true,
      state: 'active',
      gpus: [{ index: 0, name: 'NVIDIA GeForce RTX 4090', gpuId: 'rtx-4090', vramTotalMb: 24576, vramUsedMb: 20000, utilizationPct: 96, temperatureC: 71, powerW: null }],
      runningAttempt: { attemptId: 'att-1', jobId: 'job-1', phase: 'running', startedAt: '2026-11-22T07:29:00.000Z', step: 7 },
    };
    writeFileSync(
      join(home, 'status.json'),
      JSON.stringify({ nodeId: 'node-1', connected: true, state: 'active', simulated: true, lastHeartbeat: heartbeat, lastHeartbeatPublished: true, currentAttempt: heartbeat.runningAttempt, heartbeatsSkippedWhileDisconnected: 0, updatedAt: '2026-11-22T07:29:59.500Z', heartbeatIntervalMs: 2000 }),
    );
    expect(await runCli(['status'], deps())).toBe(0);
    expect(out).toContain('daemon      running');
    expect(out).toContain('heartbeat   seq 42');
    expect(out).toContain('[0] NVIDIA GeForce RTX 4090 (rtx-4090) 20000/24576 MiB, 96%, 71 °C, n/a W');
    expect(out).toContain('attempt     att-1 (job job-1) running, step 7');
    out = '';
    expect(await runCli(['status', '--json'], deps({ nowMs: () => Date.parse('2026-11-22T08:00:00Z') }))).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ nodeId: 'node-1', daemon: 'not running', currentAttempt: null, lastHeartbeat: { seq: 42 } });
  });

  it('prints usage for no command and refuses unknown commands', async () => {
    expect(await runCli([], deps())).toBe(2);
    expect(out).toMatch(/^anneal-agent: run a community GPU node/);
    expect(await runCli(['launch'], deps())).toBe(2);
    expect(err).toMatch(/unknown_command/);
  });
});
