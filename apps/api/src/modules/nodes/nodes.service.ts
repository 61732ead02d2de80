import { isGpuId, lookupGpu } from '@anneal/benchmarks';
import { controlSubject, createHeartbeatKey, encodeSignedMessage, joinRequestSchema, type DrainControl, type GpuTelemetry, type JoinRequest, type JoinResponse, type SecretBox } from '@anneal/providers';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { SECRET_BOX } from '../../core/crypto/secret-box.provider.js';
import { AppError, badRequest, conflict, forbidden, notFound, unprocessable } from '../../core/errors/app-error.js';
import { returningRows } from '../../core/database/returning-rows.js';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { TokenService } from '../auth/token.service.js';
import { CloudNodesService } from './cloud-nodes.service.js';
import { machineMismatch, MachineMismatch } from './machine-match.js';
import { vramGbOf } from './community-node-source.js';
import { NodeJoinToken } from './entities/node-join-token.entity.js';
import { NodeStateEvent } from './entities/node-state-event.entity.js';
import { Node, type NodeLiveState, type RegisteredGpu } from './entities/node.entity.js';
import { revokeNode } from './node-removal.js';
import { NodesConsumer } from './nodes.consumer.js';
import { PLATFORM_KEYS, type PlatformKeys } from './platform-keys.js';
import { ReliabilityService } from './reliability.service.js';

/** The price the console's example command carries (US dollars per GPU-hour). */
export const EXAMPLE_PRICE_USD = '0.45';
const MAX_SERIES_HOURS = 24 * 30;

export interface NodeUpdate {
  priceMicrosPerGpuHour?: bigint;
  listed?: boolean;
  draining?: boolean;
}

/** Maps what the agent reported onto the catalog; MIG slices are never mapped onto the full GPU. */
export function catalogIdOf(gpu: Pick<GpuTelemetry, 'gpuId' | 'name'>): string | null {
  if (gpu.gpuId !== null && isGpuId(gpu.gpuId)) return gpu.gpuId;
  if (/\bMIG\b/i.test(gpu.name)) return null;
  const found = lookupGpu(gpu.name);
  return found.kind === 'known' ? found.gpu.id : null;
}

/** The node's offer is its most common GPU model: the count of those GPUs, their name and memory. */
export function summarizeGpus(gpus: readonly GpuTelemetry[]): { gpuModelId: string | null; gpuName: string; gpuCount: number; vramMb: number | null; registered: RegisteredGpu[] } {
  const registered = gpus.map((gpu) => ({ index: gpu.index, name: gpu.name, gpuId: catalogIdOf(gpu), vramTotalMb: gpu.vramTotalMb }));
  const groups = new Map<string, RegisteredGpu[]>();
  for (const gpu of registered) {
    const key = gpu.gpuId ?? `name:${gpu.name}`;
    groups.set(key, [...(groups.get(key) ?? []), gpu]);
  }
  const largest = [...groups.values()].sort((a, b) => b.length - a.length || (a[0]!.gpuId === null ? 1 : 0) - (b[0]!.gpuId === null ? 1 : 0))[0]!;
  const first = largest[0]!;
  const memories = largest.map((gpu) => gpu.vramTotalMb).filter((mb): mb is number => mb !== null);
  return { gpuModelId: first.gpuId, gpuName: first.name, gpuCount: largest.length, vramMb: memories.length > 0 ? Math.min(...memories) : null, registered };
}

/**
 * The provider console (join tokens, node list and detail, price/listing, drain, remove) and the
 * agent's registration. Every query is scoped to the caller's organization: another org's node is
 * a 404. Mutations are audited in their transaction; messages to nodes go out after commit.
 */
@Injectable()
export class NodesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly tokens: TokenService,
    private readonly consumer: NodesConsumer,
    private readonly reliability: ReliabilityService,
    private readonly nats: NatsService,
    private readonly cloudNodes: CloudNodesService,
    @Inject(PLATFORM_KEYS) private readonly platformKeys: PlatformKeys,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Provider console routes are for organizations with the provider role. */
  async requireProvider(principal: Principal): Promise<void> {
    const rows: { provider_enabled: boolean }[] = await this.dataSource.query('SELECT provider_enabled FROM organizations WHERE id = $1', [principal.orgId]);
    if (!rows[0]?.provider_enabled) {
      throw forbidden(
        `This organization is not a provider yet. An owner can turn on the provider role with POST /v1/orgs/${principal.orgId}/provider (or in the console's provider settings), then list GPUs.`,
        'provider_not_enabled',
      );
    }
  }

  async createJoinToken(principal: Principal, apiUrl: string, meta: RequestMeta) {
    await this.requireProvider(principal);
    const now = this.clock.now();
    const token = this.tokens.randomToken('njt_', 24);
    const row: NodeJoinToken = {
      id: this.newId(),
      orgId: principal.orgId,
      tokenHash: this.tokens.hashSecret(token),
      createdBy: principal.userId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.NODE_JOIN_TOKEN_TTL_MINUTES * 60_000),
      usedAt: null,
      nodeId: null,
      attemptId: null,
      assignmentSealed: null,
      assignmentPublishedAt: null,
    };
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(NodeJoinToken, row);
      await this.audit.record({ actor: principal, action: 'node.join_token_created', target: { type: 'node_join_token', id: row.id }, meta, details: { expiresAt: row.expiresAt.toISOString() } }, manager);
    });
    const api = (this.config.PUBLIC_API_URL ?? apiUrl).replace(/\/+$/, '');
    return {
      id: row.id,
      token,
      expiresAt: row.expiresAt.toISOString(),
      command: `anneal-agent register --api ${api} --token ${token} --price ${EXAMPLE_PRICE_USD}`,
    };
  }

  /**
   * POST /v1/provider/nodes/join: the agent's registration (apps/node-agent/README.md). A token
   * bound to a cloud attempt registers the attempt's machine: the node belongs to the organization
   * the attempt pays (the cloud provider's), is never listed, is reserved for that attempt, and gets
   * the attempt's assignment once the registration has committed (CloudNodesService).
   */
  async join(body: unknown, meta: RequestMeta): Promise<JoinResponse> {
    const parsed = joinRequestSchema.safeParse(body);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || '(body)', message: issue.message }));
      throw badRequest('validation_failed', `The registration is not valid: ${fields.slice(0, 3).map((f) => `${f.field} ${f.message}`).join('; ')}.`, { fields });
    }
    const request: JoinRequest = parsed.data;
    if (request.simulated && !this.config.ALLOW_SIMULATED_NODES) {
      throw unprocessable('simulated_nodes_not_allowed', 'This Anneal does not accept simulated nodes (ALLOW_SIMULATED_NODES is off): register a host with real GPUs.');
    }
    const now = this.clock.now();
    const nodeId = this.newId();
    const nodeToken = this.tokens.randomToken('nt_', 32);
    // The node's heartbeat MAC key: in this response once, stored sealed, never returned again.
    const heartbeatKey = createHeartbeatKey();
    const gpus = summarizeGpus(request.gpus);
    const { orgId, attemptId } = await this.dataSource.transaction(async (manager) => {
      const claimed = returningRows<{ org_id: string; created_by: string | null; attempt_id: string | null }>(
        await manager.query(
        `UPDATE node_join_tokens t SET used_at = $2, node_id = $3
           FROM organizations o
          WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2 AND o.id = t.org_id AND o.provider_enabled
         RETURNING t.org_id, t.created_by, t.attempt_id`,
          [this.tokens.hashSecret(request.joinToken), now, nodeId],
        ),
      );
      const token = claimed[0];
      if (!token) {
        throw new AppError(401, 'join_token_invalid', 'This join token is unknown, already used or expired: create a new one in the provider console.');
      }
      if (await manager.existsBy(Node, { publicKey: request.publicKey })) {
        throw conflict('node_key_taken', 'A node with this public key is already registered: run `anneal-agent register --force` to create a new identity.');
      }
      // A cloud machine: its attempt must still be waiting for it, and be paid to the token's organization.
      const bound = token.attempt_id ? await this.cloudNodes.bindAttempt(manager, { attemptId: token.attempt_id, nodeId, orgId: token.org_id }) : null;
      if (token.attempt_id && !bound) {
        throw new AppError(401, 'join_token_invalid', 'This join token belongs to an attempt that is no longer waiting for a machine.');
      }
      // Rolled back (nothing registered), then the attempt fails over and the machine is deleted (below).
      const mismatch = bound ? machineMismatch(bound, gpus.registered) : null;
      if (bound && mismatch) throw new MachineMismatch(bound.attemptId, mismatch);
      const node: Node = {
        id: nodeId,
        orgId: token.org_id,
        publicKey: request.publicKey,
        nodeTokenHash: this.tokens.hashSecret(nodeToken),
        heartbeatKeySealed: this.secretBox.seal(heartbeatKey),
        hostname: request.hostname,
        agentVersion: request.agentVersion,
        gpus: gpus.registered,
        gpuModelId: gpus.gpuModelId,
        gpuName: gpus.gpuName,
        gpuCount: gpus.gpuCount,
        vramMb: gpus.vramMb,
        // A cloud machine is billed at its attempt's price, whatever its agent asked.
        priceMicrosPerGpuHour: bound ? bound.priceMicrosPerGpuHour : BigInt(request.priceMicrosPerGpuHour),
        region: request.region,
        simulated: request.simulated,
        listed: !bound,
        draining: false,
        state: 'offline',
        stateChangedAt: now,
        agentState: null,
        lastHeartbeatAt: null,
        lastSeq: null,
        lastTelemetry: null,
        runningAttempt: null,
        reservedForAttemptId: bound?.attemptId ?? null,
        boundAttemptId: bound?.attemptId ?? null,
        lastWrittenAt: null,
        createdAt: now,
        deletedAt: null,
      };
      await manager.insert(Node, node as never);
      await manager.insert(NodeStateEvent, { id: this.newId(), nodeId, fromState: null, toState: 'offline', at: now, reason: 'registered' });
      await this.audit.record(
        {
          actor: token.created_by ? { userId: token.created_by } : 'system',
          orgId: token.org_id,
          action: 'node.registered',
          target: { type: 'node', id: nodeId },
          meta,
          details: {
            hostname: request.hostname,
            gpuModelId: gpus.gpuModelId,
            gpuCount: gpus.gpuCount,
            simulated: request.simulated,
            priceMicrosPerGpuHour: request.priceMicrosPerGpuHour,
            ...(bound ? { attemptId: bound.attemptId } : {}),
          },
        },
        manager,
      );
      return { orgId: token.org_id, attemptId: bound?.attemptId ?? null };
    }).catch(async (error: unknown) => {
      if (!(error instanceof MachineMismatch)) throw error;
      await this.cloudNodes.refuseMachine(error.attemptId, error.reason).catch((failure: unknown) =>
        this.logger.error({ err: failure, attemptId: error.attemptId }, 'ending the attempt of a refused cloud machine failed; the provisioning timeout ends it'),
      );
      throw unprocessable('machine_mismatch', `${error.reason}: this machine cannot run the attempt, so its registration is refused, the attempt moves to another offer and the machine is deleted.`);
    });
    this.consumer.register({ id: nodeId, org_id: orgId, public_key: request.publicKey, simulated: request.simulated, heartbeatKey });
    this.reliability.invalidate();
    this.logger.info({ nodeId, orgId, gpuModelId: gpus.gpuModelId, gpuCount: gpus.gpuCount, simulated: request.simulated, ...(attemptId ? { attemptId } : {}) }, 'node registered');
    if (attemptId) {
      // After the commit: a failure here is retried by CloudNodesService's sweep.
      await this.cloudNodes.deliverAssignment(attemptId).catch((error: unknown) => this.logger.warn({ err: error, attemptId, nodeId }, 'publishing the assignment to a cloud node failed; the sweep retries'));
    }
    return {
      schemaVersion: 1,
      nodeId,
      natsUrl: this.config.NODE_NATS_URL ?? this.config.NATS_URL,
      natsAuth: { kind: 'none' },
      subjectPrefix: this.nats.prefix,
      nodeToken,
      apiPublicKey: this.platformKeys.publicKey,
      heartbeatKey,
    };
  }

  async list(principal: Principal) {
    await this.requireProvider(principal);
    const nodes = await this.dataSource.manager.find(Node, { where: { orgId: principal.orgId, deletedAt: IsNull() }, order: { createdAt: 'ASC' } });
    const reliability = await this.reliability.forNodes();
    return nodes.filter((node) => node.deletedAt === null).map((node) => this.describe(node, reliability.get(node.id)?.reliability ?? 0));
  }

  async get(principal: Principal, nodeId: string, hours = 24) {
    await this.requireProvider(principal);
    const node = await this.find(principal, nodeId);
    const since = new Date(this.clock.now().getTime() - Math.min(Math.max(hours, 1), MAX_SERIES_HOURS) * 3_600_000);
    const [telemetry, events, reliability] = await Promise.all([
      this.dataSource.query(`SELECT at, gpus, running_attempt_id FROM node_telemetry WHERE node_id = $1 AND at >= $2 ORDER BY at`, [nodeId, since]) as Promise<
        { at: Date; gpus: unknown[]; running_attempt_id: string | null }[]
      >,
      this.dataSource.query(`SELECT from_state, to_state, at, reason FROM node_state_events WHERE node_id = $1 ORDER BY at DESC, id DESC LIMIT 200`, [nodeId]) as Promise<
        { from_state: NodeLiveState | null; to_state: NodeLiveState; at: Date; reason: string }[]
      >,
      this.reliability.forNode(nodeId),
    ]);
    const live = this.consumer.live(nodeId);
    return {
      ...this.describe(node, reliability.reliability),
      uptime30d: reliability.uptime,
      gpus: node.gpus,
      rejectedMessages: live ? { ...live.rejected } : {},
      telemetry: telemetry.map((sample) => ({ at: sample.at.toISOString(), gpus: sample.gpus, runningAttemptId: sample.running_attempt_id })),
      stateHistory: events.map((event) => ({ from: event.from_state, to: event.to_state, at: event.at.toISOString(), reason: event.reason })),
    };
  }

  async update(principal: Principal, nodeId: string, update: NodeUpdate, meta: RequestMeta) {
    await this.requireProvider(principal);
    if (update.priceMicrosPerGpuHour === undefined && update.listed === undefined && update.draining === undefined) {
      throw badRequest('validation_failed', 'Nothing to change: send priceMicrosPerGpuHour, listed or draining.');
    }
    if (update.draining === true) throw badRequest('validation_failed', 'To drain a node use POST /v1/provider/nodes/{id}/drain.');
    await this.dataSource.transaction(async (manager) => {
      const node = await this.find(principal, nodeId, manager, true);
      const changes: Partial<Node> = {};
      if (update.priceMicrosPerGpuHour !== undefined) changes.priceMicrosPerGpuHour = update.priceMicrosPerGpuHour;
      if (update.listed !== undefined) changes.listed = update.listed;
      if (update.draining === false) changes.draining = false;
      await manager.update(Node, { id: nodeId }, changes as never);
      await this.audit.record(
        {
          actor: principal,
          action: 'node.updated',
          target: { type: 'node', id: nodeId },
          meta,
          details: {
            ...(update.priceMicrosPerGpuHour !== undefined ? { priceMicrosPerGpuHour: { from: node.priceMicrosPerGpuHour.toString(), to: update.priceMicrosPerGpuHour.toString() } } : {}),
            ...(update.listed !== undefined ? { listed: { from: node.listed, to: update.listed } } : {}),
            ...(update.draining === false ? { draining: { from: node.draining, to: false } } : {}),
          },
        },
        manager,
      );
    });
    return this.get(principal, nodeId, 1).then(({ telemetry: _t, stateHistory: _s, ...rest }) => rest);
  }

  async drain(principal: Principal, nodeId: string, reason: string | null, meta: RequestMeta) {
    await this.requireProvider(principal);
    await this.dataSource.transaction(async (manager) => {
      await this.find(principal, nodeId, manager, true);
      await manager.update(Node, { id: nodeId }, { draining: true });
      await this.audit.record({ actor: principal, action: 'node.drain_requested', target: { type: 'node', id: nodeId }, meta, details: { reason } }, manager);
    });
    // After commit: the signed drain control (core NATS). A node that misses it stays unrentable
    // (draining is stored) and is told again by the next drain request.
    const sent = await this.sendDrain(nodeId, reason);
    const { telemetry: _t, stateHistory: _s, ...node } = await this.get(principal, nodeId, 1);
    return { ...node, drainMessageSent: sent };
  }

  async remove(principal: Principal, nodeId: string, meta: RequestMeta): Promise<void> {
    await this.requireProvider(principal);
    const now = this.clock.now();
    await this.dataSource.transaction(async (manager) => {
      const node = await this.find(principal, nodeId, manager, true);
      const live = this.consumer.live(nodeId);
      const running = live ? live.runningAttempt : node.runningAttempt;
      if (node.reservedForAttemptId || (running && (live?.state ?? node.state) !== 'offline')) {
        throw conflict('node_busy', 'This node is running an attempt: drain it and remove it once the attempt has finished.', {
          attemptId: node.reservedForAttemptId ?? running?.attemptId ?? null,
        });
      }
      await revokeNode(manager, node, now, 'removed', this.newId());
      await this.audit.record({ actor: principal, action: 'node.removed', target: { type: 'node', id: nodeId }, meta, details: { hostname: node.hostname } }, manager);
    });
    // Credentials revoked (node token, heartbeat key): its messages are refused from now on.
    this.consumer.forget(nodeId);
    this.reliability.invalidate();
  }

  private async sendDrain(nodeId: string, reason: string | null): Promise<boolean> {
    const subject = controlSubject(this.nats.prefix, nodeId);
    const message: DrainControl = { schemaVersion: 1, type: 'drain', nodeId, reason, issuedAt: this.clock.now().toISOString() };
    try {
      this.nats.connection.publish(subject, encodeSignedMessage(this.platformKeys.seed, subject, message));
      await this.nats.connection.flush();
      return true;
    } catch (error) {
      this.logger.warn({ err: error, nodeId }, 'drain control could not be sent');
      return false;
    }
  }

  private async find(principal: Principal, nodeId: string, manager: EntityManager = this.dataSource.manager, lock = false): Promise<Node> {
    const node = await manager.findOne(Node, {
      where: { id: nodeId, orgId: principal.orgId },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!node || node.deletedAt) throw notFound('Node');
    return node;
  }

  private describe(node: Node, reliability: number) {
    const live = this.consumer.live(node.id);
    const telemetry = (live?.gpus ?? (node.lastTelemetry as GpuTelemetry[] | null) ?? []).map((gpu) => ({
      index: gpu.index,
      name: gpu.name,
      gpuId: gpu.gpuId,
      utilizationPct: gpu.utilizationPct,
      temperatureC: gpu.temperatureC,
      powerW: gpu.powerW,
      vramUsedMb: gpu.vramUsedMb,
      vramTotalMb: gpu.vramTotalMb,
    }));
    const lastBeatMs = live?.lastBeatMs ?? node.lastHeartbeatAt?.getTime() ?? null;
    const running = live ? live.runningAttempt : node.runningAttempt;
    return {
      id: node.id,
      hostname: node.hostname,
      status: live?.state ?? 'offline',
      statusSince: new Date(live?.stateSinceMs ?? node.stateChangedAt.getTime()).toISOString(),
      agentState: live?.agentState ?? node.agentState,
      agentVersion: live?.agentVersion ?? node.agentVersion,
      lastHeartbeatAt: lastBeatMs === null ? null : new Date(lastBeatMs).toISOString(),
      gpuModelId: node.gpuModelId,
      gpuName: node.gpuName,
      gpuCount: node.gpuCount,
      vramGb: vramGbOf(node.gpuModelId, node.vramMb),
      region: node.region,
      priceMicrosPerGpuHour: node.priceMicrosPerGpuHour.toString(),
      listed: node.listed,
      draining: node.draining || live?.agentState === 'draining',
      simulated: node.simulated,
      reliability,
      runningAttempt: running ? { attemptId: running.attemptId, jobId: running.jobId, phase: running.phase } : null,
      telemetry,
      createdAt: node.createdAt.toISOString(),
    };
  }
}
