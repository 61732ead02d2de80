import { expectEventually } from '@anneal/test/support';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsService } from '../../core/nats/nats.service.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { SimulatedNode } from '../nodes/node-sim.js';
import { NodesConsumer } from '../nodes/nodes.consumer.js';

const RUNPOD_KEY = 'rp-secret-key-0123456789';
const GCP_TOKEN = 'ya29.secret-access-token-0123456789';

/** Offers across providers (community + RunPod from the environment + GCP set by an admin), and the admin credentials endpoint. */
describe('cloud providers and the unified offers', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signUp>>;
  let user: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    t = await startTestApp({
      overrides: {
        ALLOW_SIMULATED_NODES: 'true',
        RUNPOD_API_KEY: RUNPOD_KEY,
        RUNPOD_POD_GPU_TYPES: JSON.stringify([{ gpuTypeId: 'NVIDIA GeForce RTX 4090', gpuCounts: [1, 2], onDemandMicrosPerGpuHour: 690000, spotMicrosPerGpuHour: 340000, region: 'EU-RO-1' }]),
      },
    });
    user = await signUp(t.http);
    admin = await signUp(t.http);
    await t.dataSource.query('UPDATE users SET is_admin = true WHERE id = $1', [admin.userId]);
    const enrol = await t.http.post('/v1/auth/2fa/enroll', {}, admin.accessToken);
    const code = await generate({ secret: enrol.body.secret, epoch: Math.floor(Date.now() / 1000) });
    expect((await t.http.post('/v1/auth/2fa/verify', { code }, admin.accessToken)).status).toBe(200);

    // One simulated community node at 0.45 USD.
    expect((await t.http.post(`/v1/orgs/${user.orgId}/provider`, {}, user.accessToken)).status).toBe(200);
    const token = (await t.http.post('/v1/provider/nodes/join-tokens', {}, user.accessToken)).body.token;
    const node = new SimulatedNode(t.app.get(NatsService).prefix);
    node.joined((await t.http.post('/v1/provider/nodes/join', node.joinRequest(token, { simulated: true }))).body);
    t.app.get(NatsService).connection.publish(node.subject, node.encode(node.heartbeat({ simulated: true })));
    await expectEventually(() => t.app.get(NodesConsumer).liveState(node.nodeId) === 'online');
  });
  afterAll(() => t?.close());

  it('merges community and RunPod offers, cheapest first, with provider and spot filters', async () => {
    const all = await t.http.get('/v1/offers?gpuModel=rtx-4090', user.accessToken);
    expect(all.status).toBe(200);
    const rows = all.body.offers.map((offer: { providerKind: string; priceMicrosPerGpuHour: string; spot: boolean; gpuCount: number }) => [offer.providerKind, offer.priceMicrosPerGpuHour, offer.spot, offer.gpuCount]);
    expect(rows).toEqual([
      ['runpod', '340000', true, 1],
      ['runpod', '340000', true, 2],
      ['community', '450000', false, 1],
      ['runpod', '690000', false, 1],
      ['runpod', '690000', false, 2],
    ]);
    const prices = all.body.offers.map((offer: { priceMicrosPerGpuHour: string }) => BigInt(offer.priceMicrosPerGpuHour));
    expect([...prices].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(prices);
    expect(all.body.offers.every((offer: { reliability: number; availability: string }) => offer.reliability >= 0 && offer.reliability <= 1 && offer.availability)).toBe(true);

    const onDemandRunpod = await t.http.get('/v1/offers?providerKind=runpod&spot=false&gpuCount=2', user.accessToken);
    expect(onDemandRunpod.body.offers.map((offer: { offerId: string }) => offer.offerId)).toHaveLength(1);
    expect(onDemandRunpod.body.offers[0]).toMatchObject({ providerKind: 'runpod', spot: false, gpuCount: 2, region: 'EU-RO-1' });
    const community = await t.http.get('/v1/offers?providerKind=community', user.accessToken);
    expect(community.body.offers).toHaveLength(1);
    expect(community.body.offers[0]).toMatchObject({ simulated: true, region: 'eu-west' });
  });

  it('lets only admins store cloud credentials, sealed, never returned or logged; offers follow', async () => {
    const body = { credentials: { type: 'access_token', accessToken: GCP_TOKEN }, config: { projectId: 'anneal-test', zones: ['us-central1-a'] } };
    const denied = await t.http.request('PUT', '/v1/admin/providers/gcp', { token: user.accessToken, body });
    expect(denied.status).toBe(403);
    expect((await t.http.get('/v1/offers?providerKind=gcp', user.accessToken)).body.offers).toEqual([]);

    const invalid = await t.http.request('PUT', '/v1/admin/providers/gcp', { token: admin.accessToken, body: { credentials: body.credentials, config: { projectId: 'X', zones: [] } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('provider_settings_invalid');
    expect(JSON.stringify(invalid.body)).not.toContain(GCP_TOKEN);

    const stored = await t.http.request('PUT', '/v1/admin/providers/gcp', { token: admin.accessToken, body });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ kind: 'gcp', active: true, source: 'stored', config: body.config });
    expect(JSON.stringify(stored.body)).not.toContain(GCP_TOKEN);
    const row: { sealed_credentials: string }[] = await t.dataSource.query(`SELECT sealed_credentials FROM provider_credentials WHERE kind = 'gcp'`);
    expect(row[0]!.sealed_credentials.startsWith('v1.')).toBe(true);
    expect(row[0]!.sealed_credentials).not.toContain(GCP_TOKEN);

    const listed = await t.http.get('/v1/admin/providers', admin.accessToken);
    expect(listed.body).toEqual([
      expect.objectContaining({ kind: 'gcp', active: true, source: 'stored' }),
      expect.objectContaining({ kind: 'runpod', active: true, source: 'environment', config: null }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(RUNPOD_KEY);

    const gcp = await t.http.get('/v1/offers?providerKind=gcp', user.accessToken);
    expect(gcp.body.offers.length).toBeGreaterThan(0);
    expect(gcp.body.offers.every((offer: { providerKind: string; zone: string }) => offer.providerKind === 'gcp' && offer.zone === 'us-central1-a')).toBe(true);

    expect((await t.http.request('DELETE', '/v1/admin/providers/gcp', { token: admin.accessToken })).status).toBe(204);
    expect((await t.http.get('/v1/offers?providerKind=gcp', user.accessToken)).body.offers).toEqual([]);
    const audit: { action: string; details: unknown }[] = await t.dataSource.query(`SELECT action, details FROM audit_log WHERE target_type = 'provider' ORDER BY occurred_at, id`);
    expect(audit.map((entry) => entry.action)).toEqual(['provider.credentials_set', 'provider.credentials_removed']);

    const logs = t.logLines.join('\n');
    expect(logs).not.toContain(GCP_TOKEN);
    expect(logs).not.toContain(RUNPOD_KEY);
  });
});
