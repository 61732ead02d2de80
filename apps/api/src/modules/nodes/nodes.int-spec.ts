import { controlMessageSchema, controlSubject, createHeartbeatKey, createNodeKeys, joinResponseSchema, openSignedMessage } from '@anneal/providers';
import { expectEventually } from '@anneal/test/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsService } from '../../core/nats/nats.service.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { TestClock } from '../../testing/test-clock.js';
import { OffersService } from '../offers/offers.service.js';
import { SimulatedNode } from './node-sim.js';
import { NodesConsumer } from './nodes.consumer.js';

describe('community nodes (join, heartbeats, console)', () => {
  let t: TestApp;
  const clock = new TestClock();
  let consumer: NodesConsumer;
  let nats: NatsService;
  let provider: Awaited<ReturnType<typeof signUp>>;
  let stranger: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    t = await startTestApp({ clock });
    consumer = t.app.get(NodesConsumer);
    nats = t.app.get(NatsService);
    provider = await signUp(t.http);
    expect((await t.http.post(`/v1/orgs/${provider.orgId}/provider`, {}, provider.accessToken)).status).toBe(200);
    stranger = await signUp(t.http);
    expect((await t.http.post(`/v1/orgs/${stranger.orgId}/provider`, {}, stranger.accessToken)).status).toBe(200);
  });
  afterAll(() => t?.close());

  async function joinToken(token = provider.accessToken): Promise<string> {
    const response = await t.http.post('/v1/provider/nodes/join-tokens', {}, token);
    expect(response.status).toBe(201);
    return response.body.token as string;
  }

  async function joinedNode(options: { simulated?: boolean; token?: string } = {}): Promise<SimulatedNode> {
    const node = new SimulatedNode(nats.prefix);
    const response = await t.http.post('/v1/provider/nodes/join', node.joinRequest(await joinToken(options.token), { simulated: options.simulated ?? false }));
    expect(response.status).toBe(201);
    return node.joined(response.body);
  }

  function publish(node: SimulatedNode, body: Uint8Array, subject = node.subject): void {
    nats.connection.publish(subject, body);
  }

  async function beat(node: SimulatedNode, overrides: Parameters<SimulatedNode['heartbeat']>[0] = {}) {
    const heartbeat = node.heartbeat(overrides, clock.now());
    publish(node, node.encode(heartbeat));
    await expectEventually(() => consumer.live(node.nodeId)?.lastSeq === heartbeat.seq);
  }

  async function states(nodeId: string): Promise<string[]> {
    const rows: { to_state: string }[] = await t.dataSource.query('SELECT to_state FROM node_state_events WHERE node_id = $1 ORDER BY at, id', [nodeId]);
    return rows.map((row) => row.to_state);
  }

  it('refuses the console to an organization that is not a provider, saying how to enable it', async () => {
    const customer = await signUp(t.http);
    for (const response of [await t.http.get('/v1/provider/nodes', customer.accessToken), await t.http.post('/v1/provider/nodes/join-tokens', {}, customer.accessToken)]) {
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('provider_not_enabled');
      expect(response.body.message).toContain(`POST /v1/orgs/${customer.orgId}/provider`);
    }
  });

  it('registers a node with a one-time join token and answers what the agent expects', async () => {
    const created = await t.http.post('/v1/provider/nodes/join-tokens', {}, provider.accessToken);
    expect(created.status).toBe(201);
    expect(created.body.command).toBe(`anneal-agent register --api ${t.baseUrl} --token ${created.body.token} --price 0.45`);
    const stored: { token_hash: string }[] = await t.dataSource.query('SELECT token_hash FROM node_join_tokens WHERE id = $1', [created.body.id]);
    expect(stored[0]?.token_hash).not.toContain(created.body.token);

    const node = new SimulatedNode(nats.prefix);
    const joined = await t.http.post('/v1/provider/nodes/join', node.joinRequest(created.body.token));
    expect(joined.status).toBe(201);
    const response = joinResponseSchema.parse(joined.body);
    expect(response.subjectPrefix).toBe(nats.prefix);
    expect(response.natsUrl).toBe(t.config.NATS_URL);
    expect(response.natsAuth).toEqual({ kind: 'none' });
    const rows: { org_id: string; public_key: string; gpu_model_id: string; gpu_count: number; price_micros_per_gpu_hour: string; simulated: boolean }[] = await t.dataSource.query(
      'SELECT org_id, public_key, gpu_model_id, gpu_count, price_micros_per_gpu_hour, simulated FROM nodes WHERE id = $1',
      [response.nodeId],
    );
    expect(rows[0]).toEqual({ org_id: provider.orgId, public_key: node.keys.publicKey, gpu_model_id: 'rtx-4090', gpu_count: 1, price_micros_per_gpu_hour: '450000', simulated: false });

    const again = await t.http.post('/v1/provider/nodes/join', new SimulatedNode(nats.prefix).joinRequest(created.body.token));
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('join_token_invalid');
    expect(t.logLines.join('\n')).not.toContain(created.body.token);
    expect(t.logLines.join('\n')).not.toContain(response.nodeToken);

    // The heartbeat key: in this response only, stored sealed, never logged nor returned again.
    expect(response.heartbeatKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const sealed: { heartbeat_key_sealed: string }[] = await t.dataSource.query('SELECT heartbeat_key_sealed FROM nodes WHERE id = $1', [response.nodeId]);
    expect(sealed[0]?.heartbeat_key_sealed).toMatch(/^v1\./);
    expect(sealed[0]?.heartbeat_key_sealed).not.toContain(response.heartbeatKey);
    expect(t.logLines.join('\n')).not.toContain(response.heartbeatKey);
    const listed = await t.http.get('/v1/provider/nodes', provider.accessToken);
    const detail = await t.http.get(`/v1/provider/nodes/${response.nodeId}`, provider.accessToken);
    expect(detail.status).toBe(200);
    for (const body of [listed.body, detail.body]) {
      expect(JSON.stringify(body)).not.toContain(response.heartbeatKey);
      expect(JSON.stringify(body)).not.toContain(sealed[0]!.heartbeat_key_sealed);
    }
  });

  it('refuses an expired join token, a simulated node while simulated nodes are off, and a malformed body', async () => {
    const expiring = await joinToken();
    const simulatedToken = await joinToken();
    const simulated = await t.http.post('/v1/provider/nodes/join', new SimulatedNode(nats.prefix).joinRequest(simulatedToken, { simulated: true }));
    expect(simulated.status).toBe(422);
    expect(simulated.body.code).toBe('simulated_nodes_not_allowed');
    clock.advance(61 * 60_000);
    const expired = await t.http.post('/v1/provider/nodes/join', new SimulatedNode(nats.prefix).joinRequest(expiring));
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('join_token_invalid');
    const malformed = await t.http.post('/v1/provider/nodes/join', { schemaVersion: 1, joinToken: 'x' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('validation_failed');
    // Sessions expired with the clock too: sign in again.
    for (const user of [provider, stranger]) {
      const login = await t.http.post('/v1/auth/login', { email: user.email, password: user.password });
      expect(login.status).toBe(200);
      user.accessToken = login.body.accessToken;
    }
  });

  it('drives node states from heartbeats: online → suspect → offline → online, written on change', async () => {
    const node = await joinedNode();
    await beat(node);
    expect(consumer.liveState(node.nodeId)).toBe('online');
    await expectEventually(async () => (await states(node.nodeId)).join() === 'offline,online');

    clock.advance(5_000);
    await consumer.sweep();
    expect(consumer.liveState(node.nodeId)).toBe('online');
    clock.advance(2_000); // 7 s without a heartbeat: three missed beats
    await consumer.sweep();
    expect(consumer.liveState(node.nodeId)).toBe('suspect');
    clock.advance(4_000); // 11 s
    await consumer.sweep();
    expect(consumer.liveState(node.nodeId)).toBe('offline');
    expect(await states(node.nodeId)).toEqual(['offline', 'online', 'suspect', 'offline']);

    await beat(node);
    expect(consumer.liveState(node.nodeId)).toBe('online');
    await expectEventually(async () => (await states(node.nodeId)).join() === 'offline,online,suspect,offline,online');
    const row: { state: string }[] = await t.dataSource.query('SELECT state FROM nodes WHERE id = $1', [node.nodeId]);
    expect(row[0]?.state).toBe('online');

    const detail = await t.http.get(`/v1/provider/nodes/${node.nodeId}`, provider.accessToken);
    expect(detail.body.status).toBe('online');
    expect(detail.body.stateHistory.map((event: { to: string }) => event.to)).toEqual(['online', 'offline', 'suspect', 'online', 'offline']);
    expect(detail.body.reliability).toBeGreaterThan(0);
    expect(detail.body.reliability).toBeLessThan(1);
  });

  it('does not age nodes while heartbeats arrive late (a backlog), and does once it is gone', async () => {
    const quiet = await joinedNode();
    const busy = await joinedNode();
    await beat(quiet);
    await beat(busy);
    clock.advance(7_000);
    // Heartbeats processed 5 s after they were sent: the consumer is behind.
    for (let i = 0; i < 3; i += 1) await beat(busy, { sentAt: new Date(clock.now().getTime() - 5_000).toISOString() });
    expect((await consumer.sweep()).aged).toBe(false);
    expect(consumer.liveState(quiet.nodeId)).toBe('online');
    expect((await consumer.sweep()).aged).toBe(true);
    expect(consumer.liveState(quiet.nodeId)).toBe('suspect');
    expect(consumer.liveState(busy.nodeId)).toBe('online');
  });

  it('writes the heartbeat fields at most once per node per 30 s, and an offline heartbeat deregisters', async () => {
    const node = await joinedNode();
    await beat(node);
    await expectEventually(async () => (await states(node.nodeId)).includes('online'));
    const lastWritten = async () => ((await t.dataSource.query('SELECT last_seq, last_written_at FROM nodes WHERE id = $1', [node.nodeId])) as { last_seq: string; last_written_at: Date | null }[])[0]!;
    let writes = 0;
    for (let i = 0; i < 10; i += 1) {
      clock.advance(2_000);
      await beat(node);
      writes += (await consumer.sweep()).heartbeatWrites;
    }
    // 20 s of beats after the state-change write: nothing more written.
    expect(writes).toBe(0);
    expect((await lastWritten()).last_seq).toBe('1');
    let writtenSeq = 0;
    for (let i = 0; i < 6; i += 1) {
      clock.advance(2_000);
      await beat(node);
      const wrote = (await consumer.sweep()).heartbeatWrites;
      if (wrote > 0) writtenSeq = node.seq;
      writes += wrote;
    }
    // 32 s: exactly one write (30 s after the first), with the seq of that moment.
    expect(writes).toBe(1);
    expect((await lastWritten()).last_seq).toBe(String(writtenSeq));
    expect(writtenSeq).toBe(node.seq - 1);

    await beat(node, { state: 'offline' });
    expect(consumer.liveState(node.nodeId)).toBe('offline');
    await expectEventually(async () => {
      const rows: { reason: string }[] = await t.dataSource.query(`SELECT reason FROM node_state_events WHERE node_id = $1 ORDER BY at DESC LIMIT 1`, [node.nodeId]);
      return rows[0]?.reason === 'deregistered';
    });
  });

  it('samples telemetry once a minute per node', async () => {
    const node = await joinedNode();
    const nowMs = clock.now().getTime();
    clock.advance(60_000 - (nowMs % 60_000) + 1_000); // one second into a minute
    for (let i = 0; i < 5; i += 1) {
      await beat(node);
      clock.advance(2_000);
    }
    await consumer.sweep();
    clock.advance(60_000);
    await beat(node);
    await consumer.sweep();
    const rows: { at: Date; gpus: { utilizationPct: number; temperatureC: number; powerW: number; vramUsedMb: number }[] }[] = await t.dataSource.query(
      'SELECT at, gpus FROM node_telemetry WHERE node_id = $1 ORDER BY at',
      [node.nodeId],
    );
    expect(rows).toHaveLength(2);
    expect(rows[1]!.at.getTime() - rows[0]!.at.getTime()).toBe(60_000);
    expect(rows[0]!.gpus[0]).toMatchObject({ utilizationPct: 0, temperatureC: 34, powerW: 21, vramUsedMb: 1 });
    const detail = await t.http.get(`/v1/provider/nodes/${node.nodeId}`, provider.accessToken);
    expect(detail.body.telemetry).toHaveLength(2);
  });

  it("rejects and counts node B's forged heartbeat on node A's subject; ignores stale seq", async () => {
    const a = await joinedNode();
    const b = await joinedNode();
    await beat(a, { seq: 10 });
    const rejected = async (reason: string) => consumer.rejectedCount(reason);
    // B MACs a heartbeat claiming to be A, for A's subject, with its own key.
    const before = await rejected('bad_mac');
    publish(a, b.encode(a.heartbeat({ seq: 1000, state: 'draining' }, clock.now()), a.subject), a.subject);
    await expectEventually(async () => (await rejected('bad_mac')) === before + 1);
    expect(consumer.live(a.nodeId)?.lastSeq).toBe(10);
    expect(consumer.live(a.nodeId)?.agentState).toBe('active');
    expect(consumer.live(a.nodeId)?.rejected).toEqual({ bad_mac: 1 });
    const metrics = await t.http.get('/metrics');
    expect(String(metrics.body)).toMatch(/anneal_node_messages_rejected_total\{reason="bad_mac"\} [1-9]/);

    // A's genuine heartbeat replayed on B's subject: refused too (the MAC binds the subject).
    const genuine = a.encode(a.heartbeat({ seq: 11 }, clock.now()));
    publish(b, genuine, b.subject);
    await expectEventually(async () => (await rejected('bad_mac')) === before + 2);
    expect(consumer.live(b.nodeId)?.rejected).toEqual({ bad_mac: 1 });

    // B's nkey signature on A's subject: A authenticates heartbeats with a MAC, a signature is refused unverified.
    const wrongAlg = await rejected('wrong_alg');
    publish(a, b.encodeSigned(a.heartbeat({ seq: 1001 }, clock.now()), a.subject), a.subject);
    await expectEventually(async () => (await rejected('wrong_alg')) === wrongAlg + 1);
    expect(consumer.live(a.nodeId)?.lastSeq).toBe(10);

    // Out of order: seq 5 after 10 is dropped.
    publish(a, a.encode(a.heartbeat({ seq: 5, state: 'draining' }, clock.now())));
    await beat(a, { seq: 12 });
    expect(consumer.live(a.nodeId)?.lastSeq).toBe(12);
    expect(consumer.live(a.nodeId)?.agentState).toBe('active');
  });

  it('opens a node\'s sealed heartbeat key when it learns the node from the database (another replica registered it)', async () => {
    const node = await joinedNode();
    consumer.forget(node.nodeId);
    expect(consumer.live(node.nodeId)).toBeUndefined();
    await beat(node, { seq: 3 });
    expect(consumer.liveState(node.nodeId)).toBe('online');
    const before = await consumer.rejectedCount('bad_mac');
    const stranger = new SimulatedNode(nats.prefix).joined({ nodeId: node.nodeId, heartbeatKey: createHeartbeatKey() });
    publish(node, stranger.encode(stranger.heartbeat({ seq: 50 }, clock.now())));
    await expectEventually(async () => (await consumer.rejectedCount('bad_mac')) === before + 1);
    expect(consumer.live(node.nodeId)?.lastSeq).toBe(3);
  });

  it('keeps accepting nkey-signed heartbeats from a node registered before heartbeat keys, and only those', async () => {
    const legacy = await joinedNode();
    // As the row of a node registered before this change looks: no heartbeat key.
    await t.dataSource.query('UPDATE nodes SET heartbeat_key_sealed = NULL WHERE id = $1', [legacy.nodeId]);
    consumer.forget(legacy.nodeId);
    legacy.joined({ nodeId: legacy.nodeId, heartbeatKey: null });
    await beat(legacy, { seq: 1 });
    expect(consumer.liveState(legacy.nodeId)).toBe('online');

    const other = await joinedNode();
    const before = { wrongSigner: await consumer.rejectedCount('wrong_signer'), wrongAlg: await consumer.rejectedCount('wrong_alg') };
    // Another node's signature, and a MAC (no key is registered for this node), on its subject.
    publish(legacy, other.encodeSigned(legacy.heartbeat({ seq: 20 }, clock.now()), legacy.subject), legacy.subject);
    publish(legacy, other.encode(legacy.heartbeat({ seq: 21 }, clock.now()), legacy.subject), legacy.subject);
    await expectEventually(async () => (await consumer.rejectedCount('wrong_signer')) === before.wrongSigner + 1 && (await consumer.rejectedCount('wrong_alg')) === before.wrongAlg + 1);
    expect(consumer.live(legacy.nodeId)?.lastSeq).toBe(1);
  });

  it('lets the provider price, unlist, drain and remove a node; offers follow', async () => {
    const node = await joinedNode();
    await beat(node);
    const offers = () => t.app.get(OffersService).list({});
    await expectEventually(async () => (await offers()).some((offer) => offer.offerId === `community:${node.nodeId}`));

    const priced = await t.http.request('PATCH', `/v1/provider/nodes/${node.nodeId}`, { token: provider.accessToken, body: { priceMicrosPerGpuHour: '300000' } });
    expect(priced.status).toBe(200);
    expect(priced.body.priceMicrosPerGpuHour).toBe('300000');
    expect((await offers()).find((offer) => offer.offerId === `community:${node.nodeId}`)?.priceMicrosPerGpuHour).toBe(300_000n);

    const unlisted = await t.http.request('PATCH', `/v1/provider/nodes/${node.nodeId}`, { token: provider.accessToken, body: { listed: false } });
    expect(unlisted.body.listed).toBe(false);
    expect((await offers()).some((offer) => offer.offerId === `community:${node.nodeId}`)).toBe(false);
    await t.http.request('PATCH', `/v1/provider/nodes/${node.nodeId}`, { token: provider.accessToken, body: { listed: true } });

    // Drain: the node receives a control message signed with the platform key it was given.
    const joined = await t.http.post('/v1/provider/nodes/join', new SimulatedNode(nats.prefix).joinRequest(await joinToken()));
    const apiPublicKey = joined.body.apiPublicKey as string;
    const subject = controlSubject(nats.prefix, node.nodeId);
    const subscription = nats.connection.subscribe(subject, { max: 1 });
    await nats.connection.flush();
    const drained = await t.http.post(`/v1/provider/nodes/${node.nodeId}/drain`, { reason: 'maintenance' }, provider.accessToken);
    expect(drained.status).toBe(200);
    expect(drained.body.draining).toBe(true);
    for await (const message of subscription) {
      const opened = openSignedMessage(controlMessageSchema, message.subject, message.data, apiPublicKey);
      expect(opened.ok && opened.value).toMatchObject({ type: 'drain', nodeId: node.nodeId, reason: 'maintenance' });
    }
    expect((await offers()).some((offer) => offer.offerId === `community:${node.nodeId}`)).toBe(false);

    // Busy: removal refused while it runs an attempt.
    await beat(node, { state: 'draining', runningAttempt: { attemptId: 'attempt-1', jobId: 'job-1', phase: 'running', startedAt: clock.now().toISOString(), step: 3 } });
    const busy = await t.http.request('DELETE', `/v1/provider/nodes/${node.nodeId}`, { token: provider.accessToken });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('node_busy');
    await beat(node, { state: 'draining', runningAttempt: null });

    const removed = await t.http.request('DELETE', `/v1/provider/nodes/${node.nodeId}`, { token: provider.accessToken });
    expect(removed.status).toBe(204);
    const list = await t.http.get('/v1/provider/nodes', provider.accessToken);
    expect(list.body.some((listed: { id: string }) => listed.id === node.nodeId)).toBe(false);
    expect((await t.http.get(`/v1/provider/nodes/${node.nodeId}`, provider.accessToken)).status).toBe(404);
    const unknownBefore = await consumer.rejectedCount('unknown_node');
    publish(node, node.encode(node.heartbeat({}, clock.now())));
    await expectEventually(async () => (await consumer.rejectedCount('unknown_node')) > unknownBefore);
    const revoked: { node_token_hash: string | null; heartbeat_key_sealed: string | null; deleted_at: Date | null }[] = await t.dataSource.query(
      'SELECT node_token_hash, heartbeat_key_sealed, deleted_at FROM nodes WHERE id = $1',
      [node.nodeId],
    );
    expect(revoked[0]).toMatchObject({ node_token_hash: null, heartbeat_key_sealed: null });
    expect(revoked[0]?.deleted_at).not.toBeNull();

    const audit: { action: string }[] = await t.dataSource.query(`SELECT action FROM audit_log WHERE target_id = $1 ORDER BY occurred_at, id`, [node.nodeId]);
    expect(audit.map((entry) => entry.action)).toEqual(['node.registered', 'node.updated', 'node.updated', 'node.updated', 'node.drain_requested', 'node.removed']);
  });

  it("answers 404 for another organization's node and changes nothing", async () => {
    const node = await joinedNode();
    await beat(node);
    const token = stranger.accessToken;
    expect((await t.http.get(`/v1/provider/nodes/${node.nodeId}`, token)).status).toBe(404);
    expect((await t.http.request('PATCH', `/v1/provider/nodes/${node.nodeId}`, { token, body: { priceMicrosPerGpuHour: '1' } })).status).toBe(404);
    expect((await t.http.post(`/v1/provider/nodes/${node.nodeId}/drain`, {}, token)).status).toBe(404);
    expect((await t.http.request('DELETE', `/v1/provider/nodes/${node.nodeId}`, { token })).status).toBe(404);
    expect((await t.http.get('/v1/provider/nodes', token)).body).toEqual([]);
    const rows: { price_micros_per_gpu_hour: string; draining: boolean; deleted_at: Date | null }[] = await t.dataSource.query(
      'SELECT price_micros_per_gpu_hour, draining, deleted_at FROM nodes WHERE id = $1',
      [node.nodeId],
    );
    expect(rows[0]).toEqual({ price_micros_per_gpu_hour: '450000', draining: false, deleted_at: null });
    const mine = await t.http.get('/v1/provider/nodes', provider.accessToken);
    const listed = mine.body.find((entry: { id: string }) => entry.id === node.nodeId);
    expect(listed).toMatchObject({ status: 'online', gpuModelId: 'rtx-4090', gpuCount: 1, priceMicrosPerGpuHour: '450000', listed: true, draining: false });
    expect(listed.telemetry[0]).toMatchObject({ index: 0, utilizationPct: 0, temperatureC: 34 });
    expect(createNodeKeys().publicKey).not.toBe(node.keys.publicKey);
  });
});
