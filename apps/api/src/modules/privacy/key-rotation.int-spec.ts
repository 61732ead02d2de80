import { Writable } from 'node:stream';
import { SecretBox } from '@anneal/providers';
import { urlFreeAssignmentFixture } from '@anneal/providers/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../app.factory.js';
import { secretBoxFromConfig } from '../../core/crypto/secret-box.provider.js';
import { createLogger } from '../../core/logging/logger.js';
import { newId } from '../../core/clock/clock.js';
import { HttpClient, signUp, startTestApp, testConfig, type TestApp } from '../../testing/test-app.js';
import { jobRow } from '../disputes/testing/dispute-fixtures.js';
import { Job } from '../jobs/entities/job.entity.js';
import { cloudProviderOrgId } from '../jobs/jobs.bindings.js';
import { CloudNodesService } from '../nodes/cloud-nodes.service.js';
import { SimulatedNode } from '../nodes/node-sim.js';
import { rotateSealedSecrets } from './key-rotation.js';

const KEY_A = `k1:${Buffer.alloc(32, 7).toString('base64')}`; // what startTestApp configures
const KEY_B = `k2:${Buffer.alloc(32, 9).toString('base64')}`;
const totpNow = (secret: string) => generate({ secret, epoch: Math.floor(Date.now() / 1000) });

/** A GCP attempt whose machine has not joined yet: its assignment waits sealed beside its join token (CloudNodesService). */
async function cloudAttemptAwaitingItsMachine(t: TestApp, user: { orgId: string; userId: string }): Promise<{ attemptId: string; assignment: unknown }> {
  const now = new Date();
  const jobId = newId();
  const attemptId = newId();
  await t.dataSource.manager.insert(Job, jobRow(jobId, user.orgId, user.userId, 'provisioning', now) as never);
  await t.dataSource.query(
    `INSERT INTO attempts (id, job_id, org_id, number, provider_kind, offer_id, provider_org_id, gpu_model, gpu_count, price_micros_per_gpu_hour, status, attempt_token_hash, created_at)
     VALUES ($1, $2, $3, 1, 'gcp', 'gcp:us-central1-a:nvidia-l4:1:standard', $4, 'l4', 1, 700000, 'provisioning', 'hash', $5)`,
    [attemptId, jobId, user.orgId, cloudProviderOrgId('gcp'), now],
  );
  const assignment = urlFreeAssignmentFixture({ attemptToken: `att_${'x'.repeat(43)}` });
  expect(await t.app.get(CloudNodesService).issueJoinToken(attemptId, assignment)).toMatch(/^njt_/);
  const [token] = await t.dataSource.query('SELECT assignment_sealed FROM node_join_tokens WHERE attempt_id = $1', [attemptId]);
  expect(token.assignment_sealed.startsWith('v1.k1.')).toBe(true);
  return { attemptId, assignment };
}

describe('rotating ENCRYPTION_KEYS (real Postgres)', () => {
  let t: TestApp;
  let second: NestExpressApplication | undefined;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { ENCRYPTION_KEYS: KEY_A } });
  });

  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  it('re-seals TOTP secrets, provider credentials, node heartbeat keys and cloud attempts’ sealed assignments with the new key; with only the new key configured, 2FA still works', async () => {
    const user = await signUp(t.http);
    expect((await t.http.post(`/v1/orgs/${user.orgId}/provider`, {}, user.accessToken)).status).toBe(200);
    const joinToken = (await t.http.post('/v1/provider/nodes/join-tokens', {}, user.accessToken)).body.token as string;
    const joined = await t.http.post('/v1/provider/nodes/join', new SimulatedNode(t.config.NATS_SUBJECT_PREFIX).joinRequest(joinToken));
    expect(joined.status).toBe(201);
    const secret = (await t.http.post('/v1/auth/2fa/enroll', {}, user.accessToken)).body.secret as string;
    expect((await t.http.post('/v1/auth/2fa/verify', { code: await totpNow(secret) }, user.accessToken)).status).toBe(200);
    const boxA = secretBoxFromConfig({ ENCRYPTION_KEYS: KEY_A });
    await t.dataSource.query(`INSERT INTO provider_credentials (kind, sealed_credentials, config, updated_at) VALUES ('runpod', $1, '{}', now())`, [boxA.seal('{"apiKey":"rp-live-secret"}')]);
    const cloud = await cloudAttemptAwaitingItsMachine(t, user);
    const [before] = await t.dataSource.query('SELECT totp_secret_sealed FROM users WHERE id = $1', [user.userId]);
    expect(before.totp_secret_sealed.startsWith('v1.k1.')).toBe(true);

    // Step 1: the new key first, the old one after it; every replica restarted with this list.
    const boxBA = secretBoxFromConfig({ ENCRYPTION_KEYS: `${KEY_B},${KEY_A}` });
    const report = await rotateSealedSecrets(t.dataSource, boxBA);
    expect(report).toEqual({
      primaryKeyId: 'k2',
      totpSecrets: { checked: 1, rotated: 1 },
      providerCredentials: { checked: 1, rotated: 1 },
      nodeHeartbeatKeys: { checked: 1, rotated: 1 },
      cloudAssignments: { checked: 1, rotated: 1 },
    });
    // Idempotent: a second run finds nothing to do.
    expect(await rotateSealedSecrets(t.dataSource, boxBA)).toEqual({
      primaryKeyId: 'k2',
      totpSecrets: { checked: 1, rotated: 0 },
      providerCredentials: { checked: 1, rotated: 0 },
      nodeHeartbeatKeys: { checked: 1, rotated: 0 },
      cloudAssignments: { checked: 1, rotated: 0 },
    });

    const [after] = await t.dataSource.query('SELECT totp_secret_sealed FROM users WHERE id = $1', [user.userId]);
    const [credentials] = await t.dataSource.query(`SELECT sealed_credentials FROM provider_credentials WHERE kind = 'runpod'`);
    expect(after.totp_secret_sealed.startsWith('v1.k2.')).toBe(true);
    expect(credentials.sealed_credentials.startsWith('v1.k2.')).toBe(true);

    // Step 2: only the new key. The old key can no longer open anything, and nothing needs it.
    const boxB = secretBoxFromConfig({ ENCRYPTION_KEYS: KEY_B });
    expect(boxB.open(credentials.sealed_credentials)).toBe('{"apiKey":"rp-live-secret"}');
    const [node] = await t.dataSource.query('SELECT heartbeat_key_sealed FROM nodes WHERE id = $1', [joined.body.nodeId]);
    expect(boxB.open(node.heartbeat_key_sealed)).toBe(joined.body.heartbeatKey);
    const [token] = await t.dataSource.query('SELECT assignment_sealed FROM node_join_tokens WHERE attempt_id = $1', [cloud.attemptId]);
    expect(token.assignment_sealed.startsWith('v1.k2.')).toBe(true);
    expect(JSON.parse(boxB.open(token.assignment_sealed))).toEqual(cloud.assignment);
    expect(() => boxA.open(after.totp_secret_sealed)).toThrow();
    expect(boxB).toBeInstanceOf(SecretBox);

    const config = testConfig(t.db.url, { ENCRYPTION_KEYS: KEY_B });
    const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    second = await createApp({ config, logger: createLogger('silent', sink) });
    await second.listen(0, '127.0.0.1');
    const address = second.getHttpServer().address();
    const http = new HttpClient(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    const withoutCode = await http.post('/v1/auth/login', { email: user.email, password: user.password });
    expect(withoutCode.body.code).toBe('two_factor_required');
    const login = await http.post('/v1/auth/login', { email: user.email, password: user.password, totpCode: await totpNow(secret) });
    expect(login.status).toBe(200);
    expect(login.body.accessToken).toBeTruthy();
  });

  it('refuses to rotate when an envelope was sealed with a key that is not configured (and changes nothing)', async () => {
    const stray = new SecretBox([{ id: 'lost', keyBase64: Buffer.alloc(32, 3).toString('base64') }]);
    await t.dataSource.query(`INSERT INTO provider_credentials (kind, sealed_credentials, config, updated_at) VALUES ('gcp', $1, '{}', now())`, [stray.seal('{}')]);
    await expect(rotateSealedSecrets(t.dataSource, secretBoxFromConfig({ ENCRYPTION_KEYS: KEY_B }))).rejects.toThrow(/lost/);
    const [row] = await t.dataSource.query(`SELECT sealed_credentials FROM provider_credentials WHERE kind = 'gcp'`);
    expect(row.sealed_credentials.startsWith('v1.lost.')).toBe(true);
  });
});
