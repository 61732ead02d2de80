import { assignmentSchema, assignSubject, encodeSignedMessage, hasSpotCapability, parseMessage, type Assignment, type ProviderKind, type SecretBox } from '@anneal/providers';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { SECRET_BOX } from '../../core/crypto/secret-box.provider.js';
import { returningRows } from '../../core/database/returning-rows.js';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { AuditService } from '../audit/audit.service.js';
import { TokenService } from '../auth/token.service.js';
import { AttemptLifecycle } from '../jobs/attempt-lifecycle.service.js';
import { ProvidersService } from '../provider-accounts/providers.service.js';
import { budgetStopAt } from './budget-stop.js';
import { Node } from './entities/node.entity.js';
import type { RentedGpus } from './machine-match.js';
import { revokeNode } from './node-removal.js';
import { NodesConsumer } from './nodes.consumer.js';
import { PLATFORM_KEYS, type PlatformKeys } from './platform-keys.js';
import { ReliabilityService } from './reliability.service.js';

/**
 * How long a cloud machine has to register with its attempt's join token. A backstop: the token is
 * refused as soon as its attempt is no longer waiting for a machine (the scheduler's provisioning
 * timeout ends such attempts sooner).
 */
export const ATTEMPT_JOIN_TOKEN_TTL_MS = 30 * 60_000;
/** A joined machine whose assignment the join itself could not publish gets it from the sweep after this long. */
const DELIVERY_RETRY_AFTER_MS = 5_000;

/** The attempt a join token is bound to, as the join sees it: its price and the GPUs it rented. */
export interface BoundAttempt extends RentedGpus {
  attemptId: string;
  priceMicrosPerGpuHour: bigint;
}

/** Why a live attempt's machine stopped answering, in the attempt's end reason and a sentence for the job's events. */
export interface LostMachine {
  reason: 'preempted' | 'node_lost';
  message: string;
}

const PROVIDER_LABEL: Record<ProviderKind, string> = { community: 'The community provider', gcp: 'GCP', runpod: 'RunPod' };

/**
 * Cloud machines (GCP, RunPod) become nodes of their attempt:
 *
 * 1. When the scheduler starts the machine, `issueJoinToken` mints a one-time join token bound to
 *    the attempt (stored as a keyed hash, short-lived, owned by the organization the attempt pays:
 *    the cloud provider's system organization) and keeps the attempt's assignment sealed with it.
 * 2. The machine's anneal-agent registers with it (`NodesService.join` → `bindAttempt`, in the join's
 *    transaction): the node is unlisted and reserved for the attempt, and the attempt's node is set.
 * 3. After that commit, `deliverAssignment` publishes the assignment, addressed to the new node and
 *    signed with the platform key, on the node's JetStream assign subject (de-duplicated by attempt;
 *    a sweep retries one the join could not publish). From there the node is a community node:
 *    heartbeats, signed attempt events, the same lifecycle, billing and recovery.
 * 4. When the attempt ends, `retire` removes the node and revokes its credentials.
 *
 * A machine that is not what its attempt rented is refused at step 2 (`refuseMachine`: the attempt
 * fails over, the machine is deleted), and a machine that stops answering is asked about through its
 * adapter (`lostMachines`: a spot reclaim is a preemption, not a lost node).
 */
@Injectable()
export class CloudNodesService implements OnApplicationShutdown {
  private sweeping = false;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: TokenService,
    private readonly nats: NatsService,
    private readonly consumer: NodesConsumer,
    private readonly reliability: ReliabilityService,
    private readonly audit: AuditService,
    @Inject(PLATFORM_KEYS) private readonly platformKeys: PlatformKeys,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * A one-time join token for the machine of a cloud attempt still waiting for one, with the
   * attempt's assignment sealed beside it. Null when the attempt is no longer waiting (ended
   * meanwhile). Asking again for the same attempt replaces a token not used yet.
   */
  async issueJoinToken(attemptId: string, assignment: unknown): Promise<string | null> {
    // Checked as it will be delivered (addressed to a node id), so a bad one fails the provision, not the machine.
    const checked = parseMessage(assignmentSchema, { ...(assignment as object), nodeId: attemptId });
    if (!checked.ok) throw new Error(`the assignment of attempt ${attemptId} is invalid: ${checked.error.message}`);
    const token = this.tokens.randomToken('njt_', 24);
    const now = this.clock.now();
    const rows = returningRows<{ id: string }>(
      await this.dataSource.query(
        `INSERT INTO node_join_tokens (id, org_id, token_hash, created_by, created_at, expires_at, attempt_id, assignment_sealed)
         SELECT $1, a.provider_org_id, $2, NULL, $3, $4, a.id, $6 FROM attempts a
          WHERE a.id = $5 AND a.status = 'provisioning' AND a.node_id IS NULL AND a.provider_kind <> 'community' AND a.provider_org_id IS NOT NULL
         ON CONFLICT (attempt_id) WHERE attempt_id IS NOT NULL DO UPDATE
            SET token_hash = EXCLUDED.token_hash, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, assignment_sealed = EXCLUDED.assignment_sealed
          WHERE node_join_tokens.used_at IS NULL
         RETURNING id`,
        [this.newId(), this.tokens.hashSecret(token), now, new Date(now.getTime() + ATTEMPT_JOIN_TOKEN_TTL_MS), attemptId, this.secretBox.seal(JSON.stringify(assignment))],
      ),
    );
    return rows.length > 0 ? token : null;
  }

  /**
   * In the join's transaction, for a token bound to an attempt: the attempt gets this node, if it is
   * still waiting for its machine and the token's organization is the one it pays. Null otherwise
   * (the join is refused and rolled back).
   */
  async bindAttempt(manager: EntityManager, input: { attemptId: string; nodeId: string; orgId: string }): Promise<BoundAttempt | null> {
    const rows = returningRows<{ id: string; price_micros_per_gpu_hour: string; gpu_model: string; gpu_count: number }>(
      await manager.query(
        `UPDATE attempts SET node_id = $2
          WHERE id = $1 AND status = 'provisioning' AND node_id IS NULL AND provider_kind <> 'community' AND provider_org_id = $3
         RETURNING id, price_micros_per_gpu_hour, gpu_model, gpu_count`,
        [input.attemptId, input.nodeId, input.orgId],
      ),
    );
    const row = rows[0];
    return row ? { attemptId: row.id, priceMicrosPerGpuHour: BigInt(row.price_micros_per_gpu_hour), gpuModelId: row.gpu_model, gpuCount: row.gpu_count } : null;
  }

  /**
   * After a join was refused because the machine is not what its attempt rented (`machineMismatch`;
   * the join rolled back, nothing registered): the attempt ends as a failed provision, so the job
   * goes back to matching with the reason, and the machine is deleted through its adapter. A machine
   * whose instance id is not recorded yet is deleted by its provision, which finds the attempt ended.
   */
  async refuseMachine(attemptId: string, reason: string): Promise<void> {
    await this.lifecycle().provisioningFailed(attemptId, 'error', reason);
    const [attempt] = returningRows<{ provider_kind: ProviderKind; instance_id: string | null }>(
      await this.dataSource.query('SELECT provider_kind, instance_id FROM attempts WHERE id = $1', [attemptId]),
    );
    if (!attempt?.instance_id) return;
    const provider = await this.providers().get(attempt.provider_kind);
    await provider
      ?.terminate(attempt.instance_id)
      .catch((error: unknown) => this.logger.error({ err: error, attemptId, instanceId: attempt.instance_id }, 'deleting a refused cloud machine failed; delete it at the provider'));
  }

  /**
   * Why the machines of these live attempts stopped answering (the scheduler's sweep of attempts on
   * lost nodes): `preempted` when the machine's provider says it reclaimed it (a spot VM GCP
   * preempted, a spot pod RunPod outbid), else `node_lost` (community nodes, providers without the
   * spot capability, a machine still running or gone without a trace, a lookup that failed).
   */
  async lostMachines(attemptIds: readonly string[]): Promise<Map<string, LostMachine>> {
    const lost = new Map<string, LostMachine>(attemptIds.map((id) => [id, { reason: 'node_lost', message: 'The machine stopped sending heartbeats.' }]));
    if (attemptIds.length === 0) return lost;
    const attempts = returningRows<{ id: string; provider_kind: ProviderKind; instance_id: string }>(
      await this.dataSource.query(`SELECT id, provider_kind, instance_id FROM attempts WHERE id = ANY($1::uuid[]) AND provider_kind <> 'community' AND instance_id IS NOT NULL`, [attemptIds]),
    );
    if (attempts.length === 0) return lost;
    const registry = await this.providers().registry();
    await Promise.all(
      attempts.map(async (attempt) => {
        const provider = registry.get(attempt.provider_kind);
        if (!provider || !hasSpotCapability(provider)) return;
        const preempted = await provider.spot.wasPreempted(attempt.instance_id).catch((error: unknown) => {
          this.logger.warn({ err: error, attemptId: attempt.id }, 'asking the provider whether it reclaimed a lost machine failed; the attempt counts as lost');
          return false;
        });
        if (preempted) lost.set(attempt.id, { reason: 'preempted', message: `${PROVIDER_LABEL[attempt.provider_kind]} reclaimed the spot machine.` });
      }),
    );
    return lost;
  }

  /**
   * After the join committed: the attempt's assignment, addressed to its node and signed with the
   * platform key, on the node's JetStream assign subject (message id `<attemptId>:assign`, so a
   * second publish within the stream's window is stored once). True when published now.
   *
   * The scheduler sealed it when it started the machine; the machine could only start training now,
   * minutes later, and is billed from then. So its budget stop is counted again from now (the
   * budget the job has left, at the attempt's price), and it is issued now.
   */
  async deliverAssignment(attemptId: string): Promise<boolean> {
    const [row] = returningRows<{ node_id: string; assignment_sealed: string; budget_cap_micros: string | null; spent_micros: string; price_micros_per_gpu_hour: string; gpu_count: number }>(
      await this.dataSource.query(
        `SELECT t.node_id, t.assignment_sealed, j.budget_cap_micros, a.price_micros_per_gpu_hour, a.gpu_count,
                (SELECT COALESCE(SUM(spent.cost_micros), 0) FROM attempts spent WHERE spent.job_id = a.job_id)::text AS spent_micros
           FROM node_join_tokens t JOIN attempts a ON a.id = t.attempt_id JOIN jobs j ON j.id = a.job_id
          WHERE t.attempt_id = $1 AND t.node_id IS NOT NULL AND t.assignment_sealed IS NOT NULL AND t.assignment_published_at IS NULL
            AND a.status = 'provisioning' AND a.node_id = t.node_id`,
        [attemptId],
      ),
    );
    if (!row) return false;
    const sealed = parseMessage(assignmentSchema, { ...(JSON.parse(this.secretBox.open(row.assignment_sealed)) as object), nodeId: row.node_id });
    if (!sealed.ok) {
      // Checked when it was sealed; never logged (it holds the attempt token).
      this.logger.error({ attemptId, code: sealed.error.code }, 'the sealed assignment of a cloud attempt is invalid; the provisioning timeout ends the attempt');
      return false;
    }
    const now = this.clock.now();
    const stopAt = budgetStopAt({
      startAt: now,
      budgetCapMicros: row.budget_cap_micros === null ? null : BigInt(row.budget_cap_micros),
      spentMicros: BigInt(row.spent_micros),
      priceMicrosPerGpuHour: BigInt(row.price_micros_per_gpu_hour),
      gpuCount: row.gpu_count,
    });
    const assignment: Assignment = { ...sealed.value, attempt: { ...sealed.value.attempt, budgetStopAt: stopAt?.toISOString() ?? null }, issuedAt: now.toISOString() };
    const subject = assignSubject(this.nats.prefix, row.node_id);
    await this.nats.jetstream.publish(subject, encodeSignedMessage(this.platformKeys.seed, subject, assignment), { msgID: `${attemptId}:assign` });
    // Published: the sealed copy (and the attempt token in it) is no longer kept.
    await this.dataSource.query('UPDATE node_join_tokens SET assignment_published_at = $2, assignment_sealed = NULL WHERE attempt_id = $1 AND assignment_published_at IS NULL', [attemptId, now]);
    return true;
  }

  /**
   * When its attempt no longer holds it: the node of a cloud machine is removed and its
   * credentials revoked (its messages are refused from then on). False for any other node.
   */
  async retire(nodeId: string, attemptId: string): Promise<boolean> {
    const now = this.clock.now();
    const retired = await this.dataSource.transaction(async (manager) => {
      const node = await manager.findOne(Node, { where: { id: nodeId, boundAttemptId: attemptId }, lock: { mode: 'pessimistic_write' } });
      if (!node || node.deletedAt) return false;
      await revokeNode(manager, node, now, 'attempt_ended', this.newId());
      await this.audit.record({ actor: 'system', orgId: node.orgId, action: 'node.retired', target: { type: 'node', id: nodeId }, details: { attemptId, reason: 'attempt_ended' } }, manager);
      return true;
    });
    if (retired) {
      this.consumer.forget(nodeId);
      this.reliability.invalidate();
    }
    return retired;
  }

  /**
   * Every 2 s: publishes the assignments of joined machines that the join could not publish (a
   * replica stopped, NATS was away), and drops the sealed assignments nobody will collect (the
   * attempt ended, or the token expired unused).
   */
  @Interval('cloud-node-assignments', 2_000)
  async sweep(): Promise<number> {
    if (!this.config.SCHEDULER_ENABLED || this.stopped || this.sweeping) return 0;
    this.sweeping = true;
    try {
      const now = this.clock.now();
      await this.dataSource.query(
        `UPDATE node_join_tokens t SET assignment_sealed = NULL FROM attempts a
          WHERE a.id = t.attempt_id AND t.assignment_sealed IS NOT NULL AND (a.status = 'ended' OR (t.used_at IS NULL AND t.expires_at <= $1))`,
        [now],
      );
      const due = returningRows<{ attempt_id: string }>(
        await this.dataSource.query(
          `SELECT attempt_id FROM node_join_tokens WHERE assignment_sealed IS NOT NULL AND node_id IS NOT NULL AND assignment_published_at IS NULL AND used_at <= $1 LIMIT 100`,
          [new Date(now.getTime() - DELIVERY_RETRY_AFTER_MS)],
        ),
      );
      let delivered = 0;
      for (const { attempt_id: attemptId } of due) {
        if (this.stopped) break;
        const sent = await this.deliverAssignment(attemptId).catch((error: unknown) => {
          this.logger.warn({ err: error, attemptId }, 'publishing the assignment of a cloud attempt failed; will retry');
          return false;
        });
        if (sent) delivered += 1;
      }
      return delivered;
    } finally {
      this.sweeping = false;
    }
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  // The jobs module (through its compute binding) and the provider registry both depend on this
  // module, so neither can be injected here: each is looked up when first needed.
  private lifecycle(): AttemptLifecycle {
    return this.moduleRef.get(AttemptLifecycle, { strict: false });
  }

  private providers(): ProvidersService {
    return this.moduleRef.get(ProvidersService, { strict: false });
  }
}
