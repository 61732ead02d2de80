import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expectEventually } from '@anneal/test/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';

const agentMain = resolve(import.meta.dirname, '../../../../node-agent/dist/main.js');

function runAgent(args: string[], home: string): ChildProcess {
  return spawn(process.execPath, [agentMain, ...args], { env: { PATH: process.env.PATH, ANNEAL_AGENT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolveExit) => child.once('exit', (code) => resolveExit({ code, output })));
}

/** The real anneal-agent daemon (built dist) registering through the join endpoint and heartbeating over NATS. */
describe('anneal-agent against the API', () => {
  let t: TestApp;
  let home: string;
  let daemon: ChildProcess | undefined;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { ALLOW_SIMULATED_NODES: 'true', SCHEDULER_ENABLED: 'true' } });
    home = mkdtempSync(join(tmpdir(), 'anneal-agent-e2e-'));
  });
  afterAll(async () => {
    if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
    await t?.close();
  });

  it('registers with a join token, shows up online with telemetry and as an offer, and deregisters on SIGTERM', async () => {
    const provider = await signUp(t.http);
    expect((await t.http.post(`/v1/orgs/${provider.orgId}/provider`, {}, provider.accessToken)).status).toBe(200);
    const created = await t.http.post('/v1/provider/nodes/join-tokens', {}, provider.accessToken);
    expect(created.status).toBe(201);

    const register = await finished(runAgent(['register', '--api', t.baseUrl, '--token', created.body.token, '--price', '0.45', '--simulate', '1x RTX 4090', '--region', 'eu-west'], home));
    expect(register.code, register.output).toBe(0);
    expect(register.output).not.toContain(created.body.token);

    daemon = runAgent(['run', '--heartbeat-interval-ms', '500'], home);
    const exited = finished(daemon);
    const node = await expectEventually(async () => {
      const list = await t.http.get('/v1/provider/nodes', provider.accessToken);
      const found = list.body.find((entry: { status: string }) => entry.status === 'online');
      if (!found) throw new Error(`no online node yet: ${JSON.stringify(list.body)}`);
      return found as { id: string; gpuModelId: string; gpuCount: number; simulated: boolean; telemetry: { temperatureC: number | null }[] };
    }, 20_000);
    expect(node).toMatchObject({ gpuModelId: 'rtx-4090', gpuCount: 1, simulated: true, region: 'eu-west', priceMicrosPerGpuHour: '450000' });
    expect(node.telemetry).toHaveLength(1);

    const offers = await t.http.get('/v1/offers?gpuModel=rtx-4090', provider.accessToken);
    expect(offers.body.offers).toContainEqual(
      expect.objectContaining({ offerId: `community:${node.id}`, providerKind: 'community', priceMicrosPerGpuHour: '450000', simulated: true, availability: 'available' }),
    );

    daemon.kill('SIGTERM');
    const result = await exited;
    expect(result.code, result.output).toBe(0);
    await expectEventually(async () => {
      const detail = await t.http.get(`/v1/provider/nodes/${node.id}`, provider.accessToken);
      return detail.body.status === 'offline' && detail.body.stateHistory[0]?.reason === 'deregistered';
    });
    const after = await t.http.get('/v1/offers', provider.accessToken);
    expect(after.body.offers.some((offer: { offerId: string }) => offer.offerId === `community:${node.id}`)).toBe(false);
  }, 60_000);
});
