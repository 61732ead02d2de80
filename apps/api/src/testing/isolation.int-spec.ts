import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedNode } from '../modules/nodes/node-sim.js';
import { runningAttempt } from '../modules/privacy/testing/running-attempt.js';
import { readyDataset, topUp } from './fixtures.js';
import { parameterisedRoutes } from './isolation-routes.js';
import { signUp, startTestApp, type TestApp } from './test-app.js';

/**
 * Tenant isolation, generated from the route table: every `/v1` route with a path parameter is
 * either an org- or user-scoped resource route (a member of another org gets 404 and the database
 * does not change), an admin route (403 for everyone else), or an agent route (attempt token
 * only). A new parameterised route that is in none of these lists fails the first test, so a new
 * endpoint is covered here or consciously listed.
 */

interface Resources {
  orgId: string;
  userId: string;
  datasetId: string;
  jobId: string;
  endedJobId: string;
  apiKeyId: string;
  invoiceId: string;
  topUpId: string;
  quoteId: string;
  nodeId: string;
  disputeId: string | null;
  exportId: string;
}

interface ScopedRoute {
  params: (r: Resources) => Record<string, string | null>;
  body?: unknown;
}

/** Routes whose resource belongs to an organization (or, for /v1/me/…, to one user). */
const SCOPED: Record<string, ScopedRoute> = {
  'GET /v1/datasets/:id': { params: (r) => ({ id: r.datasetId }) },
  'GET /v1/datasets/:id/download': { params: (r) => ({ id: r.datasetId }) },
  'POST /v1/datasets/:id/complete': { params: (r) => ({ id: r.datasetId }), body: {} },
  'DELETE /v1/datasets/:id': { params: (r) => ({ id: r.datasetId }) },
  'GET /v1/orgs/:orgId': { params: (r) => ({ orgId: r.orgId }) },
  'GET /v1/orgs/:orgId/members': { params: (r) => ({ orgId: r.orgId }) },
  'POST /v1/orgs/:orgId/invites': { params: (r) => ({ orgId: r.orgId }), body: { email: 'intruder@example.com', role: 'owner' } },
  'PATCH /v1/orgs/:orgId/members/:userId': { params: (r) => ({ orgId: r.orgId, userId: r.userId }), body: { role: 'member' } },
  'DELETE /v1/orgs/:orgId/members/:userId': { params: (r) => ({ orgId: r.orgId, userId: r.userId }) },
  'POST /v1/orgs/:orgId/provider': { params: (r) => ({ orgId: r.orgId }), body: {} },
  'DELETE /v1/api-keys/:id': { params: (r) => ({ id: r.apiKeyId }) },
  'GET /v1/billing/invoices/:id': { params: (r) => ({ id: r.invoiceId }) },
  'GET /v1/billing/top-ups/:id': { params: (r) => ({ id: r.topUpId }) },
  'POST /v1/billing/top-ups/:id/simulate-payment': { params: (r) => ({ id: r.topUpId }), body: {} },
  'GET /v1/estimates/:id': { params: (r) => ({ id: r.quoteId }) },
  'GET /v1/provider/nodes/:id': { params: (r) => ({ id: r.nodeId }) },
  'PATCH /v1/provider/nodes/:id': { params: (r) => ({ id: r.nodeId }), body: { listed: false } },
  'POST /v1/provider/nodes/:id/drain': { params: (r) => ({ id: r.nodeId }), body: {} },
  'DELETE /v1/provider/nodes/:id': { params: (r) => ({ id: r.nodeId }) },
  'GET /v1/jobs/:id': { params: (r) => ({ id: r.jobId }) },
  'POST /v1/jobs/:id/cancel': { params: (r) => ({ id: r.jobId }), body: {} },
  'GET /v1/jobs/:id/events': { params: (r) => ({ id: r.jobId }) },
  'GET /v1/jobs/:id/logs': { params: (r) => ({ id: r.jobId }) },
  'GET /v1/jobs/:id/metrics': { params: (r) => ({ id: r.jobId }) },
  'GET /v1/jobs/:id/artifacts': { params: (r) => ({ id: r.endedJobId }) },
  'GET /v1/jobs/:id/stream': { params: (r) => ({ id: r.jobId }) },
  'GET /v1/disputes/:id': { params: (r) => ({ id: r.disputeId }) },
  'POST /v1/disputes/:id/respond': { params: (r) => ({ id: r.disputeId }), body: { statement: 'The node was healthy the whole time, see the heartbeats.' } },
  'GET /v1/me/exports/:id': { params: (r) => ({ id: r.exportId }) },
};

/** Platform-admin routes: anyone who is not an admin with 2FA gets 403 (their own isolation is the admin's role). */
const ADMIN = new Set([
  'GET /v1/admin/billing/orgs/:orgId/balance',
  'GET /v1/admin/disputes/:id',
  'POST /v1/admin/disputes/:id/resolve',
  'POST /v1/admin/moderation/:id/review',
  'GET /v1/admin/users/:id',
  'POST /v1/admin/users/:id/suspend',
  'POST /v1/admin/users/:id/reinstate',
  'POST /v1/admin/nodes/:id/quarantine',
  'POST /v1/admin/nodes/:id/release',
  'PUT /v1/admin/providers/:kind',
  'DELETE /v1/admin/providers/:kind',
]);

/** Routes a training machine calls with its per-attempt token; a user's token opens none of them. */
const AGENT = new Set(['POST /v1/attempts/:id/downloads/dataset', 'POST /v1/attempts/:id/downloads/resume-checkpoint', 'POST /v1/attempts/:id/uploads/:slot']);

/** Public parameterised routes (none today). */
const PUBLIC = new Set<string>();

const fill = (path: string, params: Record<string, string | null>) => path.replace(/:([A-Za-z]+)/g, (_, name: string) => params[name] ?? '00000000-0000-7000-8000-000000000000');

describe('tenant isolation over every parameterised route (generated from the route table)', () => {
  let t: TestApp;
  let owner: Awaited<ReturnType<typeof signUp>>;
  let stranger: Awaited<ReturnType<typeof signUp>>;
  let resources: Resources;

  /** Every table's rows, hashed: any insert, update or delete anywhere changes it. */
  async function fingerprint(): Promise<Record<string, string>> {
    const tables = (await t.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('outbox_messages', 'email_outbox') ORDER BY table_name`,
    )) as { table_name: string }[];
    const result: Record<string, string> = {};
    for (const { table_name: table } of tables) {
      const [row] = await t.dataSource.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${table}" x`);
      result[table] = `${row.n}:${row.h}`;
    }
    return result;
  }

  beforeAll(async () => {
    t = await startTestApp({ s3: true });
    owner = await signUp(t.http);
    stranger = await signUp(t.http);
    // The stranger is a provider too, so provider routes get past the role check and reach the ownership check.
    expect((await t.http.post(`/v1/orgs/${stranger.orgId}/provider`, {}, stranger.accessToken)).status).toBe(200);
    await topUp(t.http, owner.accessToken, '20.00');
    const dataset = await readyDataset(t.http, owner.accessToken);
    const recipe = { baseModelId: 'meta-llama/Llama-3.2-1B', method: 'lora', sequenceLength: 512, batchSize: 4, steps: 100 };
    const job = await t.http.post('/v1/jobs', { recipe, datasetId: dataset.id, resources: { gpuCount: 1 }, budgetCap: '1.00' }, owner.accessToken);
    const ended = await runningAttempt(t, owner.accessToken, dataset.id);
    await ended.end('error');
    const apiKey = await t.http.post('/v1/api-keys', { name: 'ci', scopes: ['jobs:read'] }, owner.accessToken);
    const [invoice] = await t.dataSource.query(
      `INSERT INTO invoices (id, org_id, period, period_start, period_end, currency, charges_micros, credits_micros, top_ups_micros, total_micros, lines, created_at)
       VALUES (gen_random_uuid(), $1, '2026-10', '2026-10-01', '2026-11-01', 'usd', 0, 0, 0, 0, '[]', now()) RETURNING id`,
      [owner.orgId],
    );
    const pendingTopUp = await t.http.post('/v1/billing/top-ups', { amountUsd: '5.00' }, owner.accessToken);
    const quote = await t.http.post('/v1/estimates', { recipe, resources: { gpuCount: 1 } }, owner.accessToken);
    expect((await t.http.post(`/v1/orgs/${owner.orgId}/provider`, {}, owner.accessToken)).status).toBe(200);
    const joinToken = await t.http.post('/v1/provider/nodes/join-tokens', {}, owner.accessToken);
    const node = new SimulatedNode(t.config.NATS_SUBJECT_PREFIX);
    const joined = await t.http.post('/v1/provider/nodes/join', node.joinRequest(joinToken.body.token));
    const dispute = await t.http.post('/v1/disputes', { jobId: ended.jobId, reason: 'node_failed', description: 'The machine failed in the middle of the run.' }, owner.accessToken);
    const exported = await t.http.get('/v1/me/export', owner.accessToken);
    resources = {
      orgId: owner.orgId,
      userId: owner.userId,
      datasetId: dataset.id,
      jobId: job.body.id,
      endedJobId: ended.jobId,
      apiKeyId: apiKey.body.id,
      invoiceId: invoice.id,
      topUpId: pendingTopUp.body.id,
      quoteId: quote.body.id,
      nodeId: joined.body.nodeId,
      disputeId: dispute.status === 201 ? dispute.body.id : null,
      exportId: exported.body.id,
    };
    for (const [name, value] of Object.entries(resources)) if (name !== 'disputeId') expect(value, name).toMatch(/^[0-9a-f-]{36}$/);
    // Disputes are built only when the disputes module is loaded; then the dispute must exist.
    if (parameterisedRoutes(t.app).some((r) => r.path === '/v1/disputes/:id')) expect(dispute.status, JSON.stringify(dispute.body)).toBe(201);
    // Let the background export finish, so the fingerprint only moves if a request moves it.
    const { expectEventually } = await import('@anneal/test/support');
    await expectEventually(async () => expect((await t.http.get(`/v1/me/exports/${resources.exportId}`, owner.accessToken)).body.status).toBe('ready'), 20_000, 50);
  });

  afterAll(() => t?.close());

  it('classifies every parameterised /v1 route (a new one must be added to a list here)', () => {
    const routes = parameterisedRoutes(t.app).map((r) => `${r.method} ${r.path}`);
    expect(routes.length).toBeGreaterThan(20);
    const unclassified = routes.filter((route) => !(route in SCOPED) && !ADMIN.has(route) && !AGENT.has(route) && !PUBLIC.has(route));
    expect(unclassified, 'new parameterised routes: add each to SCOPED (with how to build its resource), ADMIN, AGENT or PUBLIC').toEqual([]);
  });

  it('a member of another org gets 404 on every org- or user-scoped route, and nothing in the database changes', async () => {
    const routes = parameterisedRoutes(t.app).filter((r) => `${r.method} ${r.path}` in SCOPED);
    expect(routes.length).toBeGreaterThan(20);
    const before = await fingerprint();
    const failures: string[] = [];
    for (const route of routes) {
      const spec = SCOPED[`${route.method} ${route.path}`]!;
      const params = spec.params(resources);
      if (Object.values(params).some((v) => v === null)) continue; // a resource this build cannot make (e.g. a module not loaded)
      const path = fill(route.path, params);
      const response = await t.http.request(route.method, path, { token: stranger.accessToken, body: spec.body });
      if (response.status !== 404) failures.push(`${route.method} ${path} → ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
    expect(await fingerprint()).toEqual(before);
  });

  it('the same resources are real: the owner reads each of them (so the 404s above mean isolation, not a wrong id)', async () => {
    const reads = parameterisedRoutes(t.app).filter((r) => r.method === 'GET' && `${r.method} ${r.path}` in SCOPED && !r.path.endsWith('/stream'));
    const failures: string[] = [];
    for (const route of reads) {
      const params = SCOPED[`${route.method} ${route.path}`]!.params(resources);
      if (Object.values(params).some((v) => v === null)) continue;
      const response = await t.http.get(fill(route.path, params), owner.accessToken);
      if (response.status !== 200) failures.push(`${route.method} ${route.path} → ${response.status}`);
    }
    expect(failures).toEqual([]);
  });

  it('admin routes answer 403 to a customer, agent routes 401 to a user token, and nothing changes', async () => {
    const before = await fingerprint();
    const failures: string[] = [];
    for (const route of parameterisedRoutes(t.app)) {
      const key = `${route.method} ${route.path}`;
      const expected = ADMIN.has(key) ? 403 : AGENT.has(key) ? 401 : null;
      if (expected === null) continue;
      const path = fill(route.path, { id: resources.jobId, orgId: resources.orgId });
      const response = await t.http.request(route.method, path, { token: owner.accessToken, body: route.method === 'GET' ? undefined : {} });
      if (response.status !== expected) failures.push(`${key} → ${response.status}, expected ${expected}`);
    }
    expect(failures).toEqual([]);
    expect(await fingerprint()).toEqual(before);
  });
});
