import { createNodeKeys, encodeSignedMessage, heartbeatSubject, type Heartbeat } from '@anneal/providers';
import { expectEventually } from '@anneal/test/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { NodesConsumer } from '../nodes/nodes.consumer.js';
import { OffersService } from './offers.service.js';

describe('offers', () => {
  let t: TestApp;
  let token: string;
  let orgId: string;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { ALLOW_SIMULATED_NODES: 'true' } });
    const user = await signUp(t.http);
    token = user.accessToken;
    orgId = user.orgId;
  });
  afterAll(() => t?.close());

  async function insertNode(options: { gpuModelId: string; gpuName: string; gpuCount: number; price: bigint; region: string; simulated?: boolean; listed?: boolean }) {
    const keys = createNodeKeys();
    const id = crypto.randomUUID();
    await t.dataSource.query(
      `INSERT INTO nodes (id, org_id, public_key, node_token_hash, hostname, agent_version, gpus, gpu_model_id, gpu_name, gpu_count, vram_mb, price_micros_per_gpu_hour,
         region, simulated, listed, draining, state, state_changed_at, created_at)
       VALUES ($1, $2, $3, NULL, 'box', '0.1.0', '[]', $4, $5, $6, 24564, $7, $8, $9, $10, false, 'offline', now(), now())`,
      [id, orgId, keys.publicKey, options.gpuModelId, options.gpuName, options.gpuCount, options.price.toString(), options.region, options.simulated ?? true, options.listed ?? true],
    );
    const consumer = t.app.get(NodesConsumer);
    consumer.register({ id, org_id: orgId, public_key: keys.publicKey, simulated: options.simulated ?? true });
    const nats = t.app.get(NatsService);
    const subject = heartbeatSubject(nats.prefix, id);
    const heartbeat: Heartbeat = {
      schemaVersion: 1,
      type: 'heartbeat',
      nodeId: id,
      seq: 1,
      sentAt: new Date().toISOString(),
      agentVersion: '0.1.0',
      uptimeS: 1,
      simulated: options.simulated ?? true,
      state: 'active',
      gpus: [{ index: 0, name: options.gpuName, gpuId: options.gpuModelId, vramTotalMb: 24564, vramUsedMb: 1, utilizationPct: 0, temperatureC: 30, powerW: 20 }],
      runningAttempt: null,
    };
    nats.connection.publish(subject, encodeSignedMessage(keys.seed, subject, heartbeat));
    await expectEventually(() => consumer.liveState(id) === 'online');
    return id;
  }

  it('lists online community nodes as offers, cheapest first, with filters', async () => {
    const expensive = await insertNode({ gpuModelId: 'rtx-4090', gpuName: 'NVIDIA GeForce RTX 4090', gpuCount: 2, price: 700_000n, region: 'eu-west' });
    const cheap = await insertNode({ gpuModelId: 'rtx-4090', gpuName: 'NVIDIA GeForce RTX 4090', gpuCount: 1, price: 450_000n, region: 'us-east' });
    await insertNode({ gpuModelId: 'rtx-4090', gpuName: 'NVIDIA GeForce RTX 4090', gpuCount: 1, price: 100_000n, region: 'us-east', listed: false });

    const offers = await t.app.get(OffersService).list({});
    expect(offers.map((offer) => offer.offerId)).toEqual([`community:${cheap}`, `community:${expensive}`]);
    expect(offers[0]).toMatchObject({ providerKind: 'community', gpuModelId: 'rtx-4090', gpuCount: 1, vramGb: 24, priceMicrosPerGpuHour: 450_000n, simulated: true, availability: 'available' });

    const response = await t.http.get('/v1/offers?region=eu-west&gpuCount=2', token);
    expect(response.status).toBe(200);
    expect(response.body.offers).toHaveLength(1);
    expect(response.body.offers[0]).toMatchObject({ offerId: `community:${expensive}`, priceMicrosPerGpuHour: '700000', gpuName: 'RTX 4090' });
    expect((await t.http.get('/v1/offers?maxPriceMicrosPerGpuHour=500000', token)).body.offers.map((o: { offerId: string }) => o.offerId)).toEqual([`community:${cheap}`]);
    expect((await t.http.get('/v1/offers?providerKind=gcp', token)).body.offers).toEqual([]);
    expect((await t.http.get('/v1/offers?minVramGb=48', token)).body.offers).toEqual([]);
    expect((await t.http.get('/v1/offers?spot=true', token)).body.offers).toEqual([]);
    expect((await t.http.get('/v1/offers?providerKind=azure', token)).status).toBe(400);
  });

  it('serves the GPU catalog', async () => {
    const response = await t.http.get('/v1/gpu-types');
    expect(response.status).toBe(200);
    expect(response.body.find((gpu: { id: string }) => gpu.id === 'rtx-4090')).toMatchObject({ name: 'RTX 4090', vramGb: 24 });
  });
});
