import { randomUUID } from 'node:crypto';
import { createNodeKeys, encodeSignedMessage, heartbeatSubject, type Heartbeat } from '@anneal/providers';
import { expectEventually } from '@anneal/test/support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { signUp, startTestApp, type TestApp } from '../../testing/test-app.js';
import { BenchmarkSnapshotService } from '../benchmarks/benchmark-snapshot.service.js';
import { BenchmarksService } from '../benchmarks/benchmarks.service.js';
import { NodesConsumer } from '../nodes/nodes.consumer.js';
import { EstimateOfferSource } from './estimate-offers.source.js';
import { Quote } from './entities/quote.entity.js';
import { EstimatesRepository, mintedAt, type NewQuote, type QuoteContentDraft } from './estimates.repository.js';
import { EstimatesScheduler } from './estimates.scheduler.js';

/** A recipe no public table has: every offer starts from the FLOP-count prior. */
const RECIPE = { baseModelId: 'Qwen/Qwen2.5-7B', method: 'lora', precision: 'bf16', sequenceLength: 1024, batchSize: 2, gradientAccumulation: 4, steps: 1000 };
const KEY_4090 = 'qwen2.5/7.62b/lora|rtx-4090x1|seq1024|b2|ga4|bf16|none';

describe('POST /v1/estimates (real Postgres + NATS, real offers from online nodes)', () => {
  let t: TestApp;
  let token: string;
  let otherToken: string;
  let orgId: string;
  const nodes: Record<string, string> = {};

  async function onlineNode(gpuModelId: string, gpuName: string, gpuCount: number, price: bigint): Promise<string> {
    const keys = createNodeKeys();
    const id = randomUUID();
    await t.dataSource.query(
      `INSERT INTO nodes (id, org_id, public_key, node_token_hash, hostname, agent_version, gpus, gpu_model_id, gpu_name, gpu_count, vram_mb, price_micros_per_gpu_hour,
         region, simulated, listed, draining, state, state_changed_at, created_at)
       VALUES ($1, $2, $3, NULL, 'box', '0.1.0', '[]', $4, $5, $6, 24564, $7, 'eu-west', false, true, false, 'offline', now(), now())`,
      [id, orgId, keys.publicKey, gpuModelId, gpuName, gpuCount, price.toString()],
    );
    const consumer = t.app.get(NodesConsumer);
    consumer.register({ id, org_id: orgId, public_key: keys.publicKey, simulated: false });
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
      simulated: false,
      state: 'active',
      gpus: Array.from({ length: gpuCount }, (_, index) => ({ index, name: gpuName, gpuId: gpuModelId, vramTotalMb: 24564, vramUsedMb: 1, utilizationPct: 0, temperatureC: 30, powerW: 20 })),
      runningAttempt: null,
    };
    nats.connection.publish(subject, encodeSignedMessage(keys.seed, subject, heartbeat));
    await expectEventually(() => consumer.liveState(id) === 'online');
    return `community:${id}`;
  }

  const estimate = (body: unknown, as = token) => t.http.post('/v1/estimates', body, as);

  beforeAll(async () => {
    t = await startTestApp();
    const user = await signUp(t.http);
    token = user.accessToken;
    orgId = user.orgId;
    otherToken = (await signUp(t.http)).accessToken;
    nodes.rtx4090 = await onlineNode('rtx-4090', 'NVIDIA GeForce RTX 4090', 1, 450_000n);
    nodes.rtx4090x2 = await onlineNode('rtx-4090', 'NVIDIA GeForce RTX 4090', 2, 400_000n);
    nodes.rtx3090 = await onlineNode('rtx-3090', 'NVIDIA GeForce RTX 3090', 1, 250_000n);
    nodes.a100 = await onlineNode('a100-80gb-sxm', 'NVIDIA A100-SXM4-80GB', 1, 1_500_000n);
    t.app.get(EstimateOfferSource).invalidate();
  });
  afterAll(() => t?.close());

  it('answers one row per offer from the prior, then exact, scaled and transferred once runs are in', async () => {
    const first = await estimate({ recipe: RECIPE });
    expect(first.status).toBe(200);
    expect(first.body.rows).toHaveLength(4);
    expect(first.body.rows.map((r: { basis: string }) => r.basis)).toEqual(['prior', 'prior', 'prior', 'prior']);
    expect(first.body.steps).toBe(1000);

    // Three finished runs on 1× RTX 4090 arrive through the samples stream.
    const benchmarks = t.app.get(BenchmarksService);
    for (const stepTimeMsMean of [900, 1000, 1100]) {
      await benchmarks.publishSample(randomUUID(), {
        schemaVersion: 1,
        baseModelId: 'Qwen/Qwen2.5-7B',
        method: 'lora',
        precision: 'bf16',
        quantization: null,
        sequenceLength: 1024,
        imageMegapixels: null,
        batchSize: 2,
        gradientAccumulation: 4,
        gpuId: 'rtx-4090',
        gpuCount: 1,
        stepTimeMsMean,
        stepTimeMsVariance: 10,
        stepsObserved: 500,
        validationTimePerPromptMsMean: null,
        validationPromptsObserved: 0,
        simulated: false,
      });
    }
    const snapshots = t.app.get(BenchmarkSnapshotService);
    await expectEventually(() => snapshots.snapshot.get(KEY_4090)?.stepTimeMs.count === 3);

    const second = await estimate({ recipe: RECIPE });
    expect(second.status).toBe(200);
    const byOffer = new Map<string, any>(second.body.rows.map((r: { offerId: string }) => [r.offerId, r]));
    const exact = byOffer.get(nodes.rtx4090!);
    expect(exact).toMatchObject({ basis: 'exact', sampleCount: 3, basisText: 'from 3 runs like this', providerKind: 'community', gpuCount: 1, priceMicrosPerGpuHour: '450000' });
    expect(exact.sentence).toMatch(/^~\d+ min, ~\$\d+\.\d\d on 1× RTX 4090, community; from 3 runs like this$/);
    expect(exact.stepTimeMs.p50).toBeCloseTo(Math.exp((Math.log(900) + Math.log(1000) + Math.log(1100)) / 3), 0);
    expect(byOffer.get(nodes.rtx4090x2!)).toMatchObject({ basis: 'scaled', gpuCount: 2 });
    expect(byOffer.get(nodes.rtx3090!)).toMatchObject({ basis: 'transferred' });
    expect(byOffer.get(nodes.rtx3090!).basisText).toMatch(/^transferred from RTX 4090/);
    expect(byOffer.get(nodes.a100!)).toMatchObject({ basis: 'transferred' });

    for (const row of second.body.rows) {
      for (const q of ['p10', 'p50', 'p90']) expect(row.costMicros[q]).toMatch(/^\d+$/);
      expect(BigInt(row.costMicros.p10)).toBeLessThanOrEqual(BigInt(row.costMicros.p50));
      expect(BigInt(row.costMicros.p50)).toBeLessThanOrEqual(BigInt(row.costMicros.p90));
      expect(row.runtimeSeconds.p10).toBeLessThanOrEqual(row.runtimeSeconds.p50);
      expect(row.runtimeSeconds.p50).toBeLessThanOrEqual(row.runtimeSeconds.p90);
    }
    // Sorted by cost; exactly one fastest, and it is the one with the least p50 runtime.
    const costs = second.body.rows.map((r: { costMicros: { p50: string } }) => BigInt(r.costMicros.p50));
    expect([...costs].sort((a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(costs);
    const fastest = second.body.rows.filter((r: { fastest: boolean }) => r.fastest);
    expect(fastest).toHaveLength(1);
    expect(fastest[0].runtimeSeconds.p50).toBe(Math.min(...second.body.rows.map((r: { runtimeSeconds: { p50: number } }) => r.runtimeSeconds.p50)));
    // Cost is runtime × price × count, rounded up to the micro-dollar.
    const expected = BigInt(Math.ceil(Math.ceil(exact.runtimeSeconds.p50 * 1000) * 450_000 / 3_600_000));
    expect(Number(BigInt(exact.costMicros.p50) - expected)).toBeLessThanOrEqual(1);
    expect(second.body.summary).toMatch(/^Cheapest: ~/);

    // Stored as a quote with an expiry.
    expect(Date.parse(second.body.expiresAt) - Date.parse(second.body.createdAt)).toBe(900_000);
    const stored = await t.http.get(`/v1/estimates/${second.body.id}`, token);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ id: second.body.id, expired: false, steps: 1000, matchedOffers: 4, summary: second.body.summary });
    expect(stored.body.rows).toEqual(second.body.rows);
  });

  it('refuses a named GPU the recipe cannot fit, with the figures, and lists misfits apart', async () => {
    const full = { ...RECIPE, baseModelId: 'meta-llama/Llama-3.1-8B', method: 'full', sequenceLength: 2048, batchSize: 4 };
    const refused = await estimate({ recipe: full, resources: { gpuModel: 'NVIDIA GeForce RTX 4090' } });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('does_not_fit_memory');
    expect(refused.body.message).toMatch(/^Needs ~\d+ GB, RTX 4090 has 24 GB\.$/);
    expect(refused.body.details).toMatchObject({ gpu: { id: 'rtx-4090' }, haveGb: 24 });
    expect(refused.body.details.needGb).toBeGreaterThan(100);

    const open = await estimate({ recipe: full });
    expect(open.status).toBe(200);
    expect(open.body.rows).toEqual([]);
    const groups = new Map<string, any>(open.body.excluded.map((g: { gpu: { id: string }; gpuCount: number }) => [`${g.gpu.id}x${g.gpuCount}`, g]));
    expect(groups.get('rtx-4090x1')).toMatchObject({ code: 'does_not_fit_memory', haveGb: 24, offerCount: 1, offerIds: [nodes.rtx4090] });
    expect(groups.get('rtx-4090x1').message).toMatch(/^needs ~\d+ GB, RTX 4090 has 24 GB$/);
    expect(groups.get('a100-80gb-sxmx1')).toMatchObject({ code: 'does_not_fit_memory', haveGb: 80 });
    expect(open.body.summary).toMatch(/^No matching offer has enough GPU memory for this recipe: needs ~/);
  });

  it('filters by GPU, count, provider and price, and steps can come from epochs and the dataset', async () => {
    const cheap = await estimate({ recipe: RECIPE, maxPricePerGpuHour: '0.30' });
    expect(cheap.body.rows.map((r: { offerId: string }) => r.offerId)).toEqual([nodes.rtx3090]);
    const micros = await estimate({ recipe: RECIPE, maxPriceMicrosPerGpuHour: '450000', resources: { gpuModel: 'rtx-4090' } });
    expect(micros.body.rows.map((r: { offerId: string }) => r.offerId).sort()).toEqual([nodes.rtx4090, nodes.rtx4090x2].sort());
    const two = await estimate({ recipe: RECIPE, resources: { gpuCount: 2 } });
    expect(two.body.rows.map((r: { offerId: string }) => r.offerId)).toEqual([nodes.rtx4090x2]);
    const limited = await estimate({ recipe: RECIPE, limit: 1 });
    expect(limited.body.matchedOffers).toBe(4);
    expect(limited.body.rows.length).toBeGreaterThanOrEqual(1);
    expect(limited.body.rows.some((r: { fastest: boolean }) => r.fastest)).toBe(true);

    const { steps: _steps, ...withoutSteps } = RECIPE;
    const fromData = await estimate({ recipe: { ...withoutSteps, epochs: 2, datasetSamples: 10_000, validationPrompts: 4, validationInterval: 500 } });
    expect(fromData.status).toBe(200);
    expect(fromData.body).toMatchObject({ steps: 2500, validationRuns: 5 });
  });

  it('answers an empty list with a sentence when no offer matches', async () => {
    const none = await estimate({ recipe: RECIPE, providers: ['gcp'] });
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ rows: [], excluded: [], matchedOffers: 0 });
    expect(none.body.summary).toMatch(/^No offers match this request right now/);
    expect(none.body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses bad input with stable codes', async () => {
    const unknownModel = await estimate({ recipe: { ...RECIPE, baseModelId: 'someone/mystery-model' } });
    expect([unknownModel.status, unknownModel.body.code]).toEqual([422, 'unknown_model']);
    const unknownGpu = await estimate({ recipe: RECIPE, resources: { gpuModel: 'Voodoo 5 6000' } });
    expect([unknownGpu.status, unknownGpu.body.code]).toEqual([422, 'unknown_gpu']);
    for (const steps of [0, -5, 1.5, 50_000_000]) {
      const bad = await estimate({ recipe: { ...RECIPE, steps } });
      expect([bad.status, bad.body.code]).toEqual([400, 'invalid_steps']);
    }
    const both = await estimate({ recipe: { ...RECIPE, epochs: 1, datasetSamples: 100 } });
    expect([both.status, both.body.code]).toEqual([400, 'invalid_steps']);
    const method = await estimate({ recipe: { ...RECIPE, method: 'dreambooth' } });
    expect([method.status, method.body.code]).toEqual([400, 'invalid_method']);
    const extra = await estimate({ recipe: RECIPE, userId: 'x' });
    expect([extra.status, extra.body.code]).toEqual([400, 'validation_failed']);
    const price = await estimate({ recipe: RECIPE, maxPricePerGpuHour: '1.5', maxPriceMicrosPerGpuHour: '1500000' });
    expect([price.status, price.body.code]).toEqual([400, 'invalid_price']);
    expect((await t.http.post('/v1/estimates', { recipe: RECIPE })).status).toBe(401);
  });

  it("never shows another org's quote", async () => {
    const mine = await estimate({ recipe: RECIPE });
    expect(mine.status).toBe(200);
    const theirs = await t.http.get(`/v1/estimates/${mine.body.id}`, otherToken);
    expect([theirs.status, theirs.body.code]).toEqual([404, 'not_found']);
    expect((await t.http.get('/v1/estimates/not-a-uuid', token)).status).toBe(404);
    expect((await t.http.get(`/v1/estimates/${randomUUID()}`, token)).status).toBe(404);
    // Still there for its own org.
    expect((await t.http.get(`/v1/estimates/${mine.body.id}`, token)).status).toBe(200);
  });

  it('stores each estimate once for all its quotes; the id answered is readable at once through the repository, as a job submission reads it', async () => {
    const body = { recipe: { ...RECIPE, steps: 1234 }, limit: 3 };
    const [first, second] = [await estimate(body), await estimate(body)];
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(first.body.id).not.toBe(second.body.id);
    expect(second.body.rows).toEqual(first.body.rows);
    const contents = (await t.dataSource.query('SELECT DISTINCT content_id FROM quotes WHERE id = ANY($1)', [[first.body.id, second.body.id]])) as Array<{ content_id: string }>;
    expect(contents).toHaveLength(1);
    // What POST /v1/jobs does with a quoteId: the entity and its rows, through the repository.
    const stored = await t.app.get(EstimatesRepository).findForOrg(second.body.id, orgId);
    expect(stored?.rows).toEqual(second.body.rows);
    expect(stored?.excluded).toEqual(second.body.excluded);
    expect(stored?.summary).toBe(second.body.summary);
    const view = await t.http.get(`/v1/estimates/${second.body.id}`, token);
    expect(view.body).toMatchObject({ id: second.body.id, rows: second.body.rows, summary: second.body.summary, request: second.body.request, steps: 1234 });
  });

  const content = (createdAt = new Date()): QuoteContentDraft => ({ id: randomUUID(), rowsJson: '[]', excludedJson: '[]', summary: 'test', createdAt, persisted: false });

  it('stores concurrent quotes together, and one bad row does not fail the others', async () => {
    const repository = t.app.get(EstimatesRepository);
    const shared = content();
    const quote = (org: string): NewQuote => ({
      id: randomUUID(),
      orgId: org,
      createdBy: randomUUID(),
      requestJson: '{"input":{}}',
      content: shared,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    });
    const good = [quote(orgId), quote(orgId), quote(orgId)];
    const bad = quote(randomUUID());
    const results = await Promise.allSettled([...good, bad].map((q) => repository.insert(q)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    const stored = (await t.dataSource.query('SELECT count(*)::int AS n FROM quotes WHERE id = ANY($1)', [[...good, bad].map((q) => q.id)])) as Array<{ n: number }>;
    expect(stored[0]!.n).toBe(3);
    expect(shared.persisted).toBe(true);
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM quote_contents WHERE id = $1', [shared.id]))[0].n).toBe(1);
  });

  it('answers before the quote commits: a lookup on this replica waits for the write, one on another replica looks again, and a shutdown stores it first', async () => {
    // Every quote INSERT waits behind this lock, so the answer provably comes before the commit.
    const blocker = t.dataSource.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query('LOCK TABLE quotes IN EXCLUSIVE MODE');
    try {
      const answered = await estimate({ recipe: { ...RECIPE, steps: 4321 } });
      expect(answered.status).toBe(200);
      const id: string = answered.body.id;
      expect(Math.abs(Date.now() - mintedAt(id))).toBeLessThan(60_000);
      await expectEventually(async () => {
        const [row] = (await t.dataSource.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO quotes %'",
        )) as Array<{ n: number }>;
        return row!.n > 0;
      });
      expect((await t.dataSource.query('SELECT count(*)::int AS n FROM quotes WHERE id = $1', [id]))[0].n).toBe(0);

      const here = t.app.get(EstimatesRepository);
      const settled: string[] = [];
      const local = here.findForOrg(id, orgId).then((quote) => (settled.push('local'), quote));
      const shutdown = here.beforeApplicationShutdown().then(() => settled.push('shutdown'));
      // Another replica: the same database, none of this one's unwritten quotes.
      const elsewhere = new EstimatesRepository(t.dataSource, t.app.get(LOGGER));
      elsewhere.recentQuoteWait = { withinMs: 60_000, pausesMs: Array.from({ length: 200 }, () => 25) };
      const lookups = vi.spyOn(elsewhere as unknown as { lookup: (id: string, orgId: string) => Promise<Quote | null> }, 'lookup');
      const remote = elsewhere.findForOrg(id, orgId);
      await expectEventually(() => lookups.mock.results.length > 0);
      expect(await lookups.mock.results[0]!.value).toBeNull();
      // The write is still held: neither this replica's lookup nor its shutdown can have finished.
      expect(settled).toEqual([]);

      await blocker.commitTransaction();
      expect((await local)?.id).toBe(id);
      expect((await remote)?.id).toBe(id);
      await shutdown;
      expect(lookups.mock.calls.length).toBeGreaterThan(1);
      expect((await t.dataSource.query('SELECT count(*)::int AS n FROM quotes WHERE id = $1', [id]))[0].n).toBe(1);
    } finally {
      if (blocker.isTransactionActive) await blocker.rollbackTransaction();
      await blocker.release();
    }
  });

  it('does not look again for an unknown quote that is not new, or whose id is not a time-ordered one', async () => {
    const repository = new EstimatesRepository(t.dataSource, t.app.get(LOGGER));
    const lookups = vi.spyOn(repository as unknown as { lookup: (id: string, orgId: string) => Promise<Quote | null> }, 'lookup');
    const anHourAgo = (Date.now() - 3_600_000).toString(16).padStart(12, '0');
    const old = `${anHourAgo.slice(0, 8)}-${anHourAgo.slice(8)}-7000-8000-000000000000`;
    expect(Date.now() - mintedAt(old)).toBeGreaterThanOrEqual(3_600_000);
    expect(await repository.findForOrg(old, orgId)).toBeNull();
    expect(await repository.findForOrg(randomUUID(), orgId)).toBeNull();
    expect(lookups).toHaveBeenCalledTimes(2);
  });

  it('takes API keys with the jobs:read scope, and refuses keys without it', async () => {
    const withScope = await t.http.post('/v1/api-keys', { name: 'estimates', scopes: ['jobs:read'] }, token);
    const without = await t.http.post('/v1/api-keys', { name: 'billing', scopes: ['billing:read'] }, token);
    expect([withScope.status, without.status]).toEqual([201, 201]);
    const allowed = await estimate({ recipe: RECIPE }, withScope.body.key);
    expect(allowed.status).toBe(200);
    expect((await t.http.get(`/v1/estimates/${allowed.body.id}`, withScope.body.key)).status).toBe(200);
    const refused = await estimate({ recipe: RECIPE }, without.body.key);
    expect([refused.status, refused.body.code]).toEqual([403, 'insufficient_scope']);
  });

  it('prunes quotes a week after they expired, and only those', async () => {
    const repository = t.app.get(EstimatesRepository);
    const at = (ms: number) => new Date(Date.now() + ms);
    const oldContent = content(at(-9 * 86_400_000));
    const sharedContent = content(at(-9 * 86_400_000));
    const old: NewQuote = { id: randomUUID(), orgId, createdBy: randomUUID(), requestJson: '{}', content: oldContent, createdAt: at(-9 * 86_400_000), expiresAt: at(-8 * 86_400_000) };
    const oldShared: NewQuote = { ...old, id: randomUUID(), content: sharedContent };
    const recent: NewQuote = { ...old, id: randomUUID(), content: sharedContent, expiresAt: at(-86_400_000) };
    await Promise.all([repository.insert(old), repository.insert(oldShared), repository.insert(recent)]);
    expect(await t.app.get(EstimatesScheduler).pruneQuotes()).toBeGreaterThanOrEqual(2);
    const left = (await t.dataSource.query('SELECT id FROM quotes WHERE id = ANY($1)', [[old.id, oldShared.id, recent.id]])) as Array<{ id: string }>;
    expect(left.map((r) => r.id)).toEqual([recent.id]);
    // A content goes with its last quote; one still in use stays.
    const contents = (await t.dataSource.query('SELECT id FROM quote_contents WHERE id = ANY($1)', [[oldContent.id, sharedContent.id]])) as Array<{ id: string }>;
    expect(contents.map((r) => r.id)).toEqual([sharedContent.id]);
  });
});
