import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupGpu } from '@anneal/benchmarks';
import { allHeartbeatsSubject, createHeartbeatKey, createNodeKeys, type Heartbeat } from '@anneal/providers';
import { expectEventually, natsTestUrl, uniquePrefix } from '@anneal/test/support';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FetchFn } from '../join/join.client.js';
import { openHeartbeatWithMac } from '../testing/agent-harness.js';
import { runCli, type CliDeps } from './cli.js';

let home: string;
let nc: NatsConnection;
let prefix: string;
let output: string;
const heartbeatKey = createHeartbeatKey();

function deps(trigger: { stop?: (signal: string) => void } = {}): CliDeps {
  const api: FetchFn = async () => ({
    ok: true,
    status: 201,
    text: async () =>
      JSON.stringify({
        schemaVersion: 1,
        nodeId: 'node-cli-1',
        natsUrl: natsTestUrl(),
        natsAuth: { kind: 'none' },
        subjectPrefix: prefix,
        nodeToken: 'node-token-0123456789abcdef',
        apiPublicKey: createNodeKeys().publicKey,
        heartbeatKey,
      }),
  });
  return {
    env: { ANNEAL_AGENT_HOME: home },
    stdout: (text) => void (output += text),
    stderr: (text) => void (output += text),
    fetch: api,
    runCommand: async () => ({ exitCode: null, stdout: '', stderr: '', failure: 'not_found' }),
    lookupGpu,
    nowMs: Date.now,
    hostname: () => 'sim-box',
    onShutdownSignal: (handler) => {
      trigger.stop = handler;
      return () => void (trigger.stop = undefined);
    },
  };
}

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'anneal-agent-run-'));
  prefix = `${uniquePrefix('cli')}.`;
  output = '';
  nc = await connect({ servers: natsTestUrl() });
});

afterEach(async () => {
  await nc.close();
  rmSync(home, { recursive: true, force: true });
});

describe('anneal-agent run (in process, real NATS)', () => {
  it('heartbeats with the registered key, exits 0 on SIGTERM after an offline heartbeat, and resumes seq on restart', async () => {
    expect(await runCli(['register', '--api', 'http://api.test', '--token', 'join-token-1', '--price', '0.45', '--simulate', '2x RTX 4090'], deps())).toBe(0);
    const credentials = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { nkeySeed: string; heartbeatKey: string };
    expect(credentials.heartbeatKey).toBe(heartbeatKey);
    const heartbeats: Heartbeat[] = [];
    nc.subscribe(allHeartbeatsSubject(prefix), {
      callback: (_error, msg) => {
        const opened = openHeartbeatWithMac(msg.subject, msg.data, credentials.heartbeatKey);
        if (opened.ok) heartbeats.push(opened.value);
      },
    });
    await nc.flush();

    const first: { stop?: (signal: string) => void } = {};
    const running = runCli(['run', '--heartbeat-interval-ms', '100', '--log-level', 'warn'], deps(first));
    await expectEventually(() => expect(heartbeats.length).toBeGreaterThanOrEqual(3));
    expect(heartbeats[0]).toMatchObject({ nodeId: 'node-cli-1', simulated: true, state: 'active' });

    let status = '';
    await runCli(['status', '--json'], { ...deps(), stdout: (text) => void (status += text) });
    expect(JSON.parse(status)).toMatchObject({ nodeId: 'node-cli-1', daemon: 'running', connected: true, simulated: true });
    expect(statSync(join(home, 'status.json')).mode & 0o077).toBe(0);

    first.stop!('SIGTERM');
    expect(await running).toBe(0);
    const lastOfFirstRun = heartbeats.at(-1)!;
    expect(lastOfFirstRun.state).toBe('offline');

    const second: { stop?: (signal: string) => void } = {};
    const again = runCli(['run', '--heartbeat-interval-ms', '100', '--log-level', 'warn'], deps(second));
    await expectEventually(() => expect(heartbeats.length).toBeGreaterThan(heartbeats.indexOf(lastOfFirstRun) + 1));
    expect(heartbeats[heartbeats.indexOf(lastOfFirstRun) + 1]!.seq).toBeGreaterThan(lastOfFirstRun.seq);
    second.stop!('SIGTERM');
    expect(await again).toBe(0);
    expect(output).not.toContain('node-token');
    expect(output).not.toContain(credentials.nkeySeed);
    expect(output).not.toContain(heartbeatKey);
  });
});
