import { Inject, Injectable } from '@nestjs/common';
import { deriveUuid, type AttemptEndReason } from '@anneal/billing';
import {
  CommunityProvider,
  NotFoundError,
  ProvisioningError,
  attemptEventSchema,
  claimedSigner,
  openSignedMessage,
  parseCommunityOfferId,
  type AgentBootstrap,
  type Offer,
  type ProviderKind,
} from '@anneal/providers';
import { checkMemoryFit, lookupGpu, prepareJob, type PreparedJob } from '@anneal/benchmarks';
import { DataSource, type EntityManager } from 'typeorm';
import { unprocessable } from '../../core/errors/app-error.js';
import { BenchmarkSnapshotService } from '../benchmarks/benchmark-snapshot.service.js';
import { EstimatesRepository } from '../estimates/estimates.repository.js';
import { buildEstimateTable, type EstimateRow } from '../estimates/estimate-table.js';
import { estimateFailure } from '../estimates/estimates.service.js';
import { returningRows } from '../../core/database/returning-rows.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CloudNodesService } from '../nodes/cloud-nodes.service.js';
import { Node } from '../nodes/entities/node.entity.js';
import { ProvidersService } from '../provider-accounts/providers.service.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { ObjectStorage } from '../../core/storage/object-storage.js';
import { BillingService } from '../billing/billing.service.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { ModerationService } from '../moderation/moderation.service.js';
import type { BillingPort, ComputePort, DatasetPort, EstimateInput, EstimatePort, ModerationPort, OpenedAttemptEvent, ProvisionInput, QuoteRow, SettleAttemptInput, SettleAttemptOutcome, StoragePort } from './jobs.ports.js';

/** Cloud capacity has no provider org in Anneal; its payable sits on one account per provider kind. */
export function cloudProviderOrgId(kind: ProviderKind): string {
  return deriveUuid('cloud-provider', kind);
}

@Injectable()
export class DatasetBinding implements DatasetPort {
  constructor(private readonly datasets: DatasetsService) {}

  requireTrainable(orgId: string, datasetId: string) {
    return this.datasets.requireTrainable(orgId, datasetId);
  }

  trainableMany(refs: readonly { orgId: string; datasetId: string }[]) {
    return this.datasets.trainableMany(refs);
  }

  presignedGetUrl(datasetId: string, ttlSeconds: number) {
    return this.datasets.presignedGetUrl(datasetId, ttlSeconds);
  }

  async deleteAfterTraining(datasetId: string): Promise<void> {
    await this.datasets.deleteAfterTraining(datasetId);
  }
}

@Injectable()
export class ModerationBinding implements ModerationPort {
  constructor(private readonly moderation: ModerationService) {}

  async checkJob(input: { orgId: string; jobId: string; baseModelId: string; datasetId: string; name: string; configuration?: unknown }) {
    const decision = await this.moderation.moderateJobSubmission({ jobId: input.jobId, orgId: input.orgId, baseModelId: input.baseModelId, datasetId: input.datasetId, jobName: input.name, configuration: input.configuration });
    return { passed: decision.outcome === 'passed', reasons: decision.reasons };
  }
}

@Injectable()
export class StorageBinding implements StoragePort {
  constructor(
    private readonly storage: ObjectStorage,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async presignPut(key: string, ttlSeconds: number) {
    const put = await this.storage.presignPut(key, ttlSeconds, this.clock.now());
    return { url: put.url, headers: put.headers };
  }

  async presignGet(key: string, ttlSeconds: number, downloadName?: string) {
    return (await this.storage.presignGet(key, ttlSeconds, this.clock.now(), downloadName)).url;
  }

  async deleteObjects(keys: string[]): Promise<void> {
    for (const key of keys) await this.storage.delete(key);
  }
}

/** The attempt's end as metering knows it (a maximum duration reached is a completed run). */
function billedEndReason(endReason: string): AttemptEndReason {
  return endReason === 'max_duration' ? 'completed' : (endReason as AttemptEndReason);
}

@Injectable()
export class BillingBinding implements BillingPort {
  constructor(private readonly billing: BillingService) {}

  async placeJobHold(input: { orgId: string; jobId: string; amountMicros: bigint }) {
    const hold = await this.billing.placeJobHold({ orgId: input.orgId, jobId: input.jobId, quoteUpperMicros: input.amountMicros, budgetCapMicros: null });
    return { holdId: hold.holdId };
  }

  async releaseJobHold(jobId: string, holdId: string | null): Promise<void> {
    await this.billing.releaseJobHold(jobId, holdId ?? undefined);
  }

  async settleAttempts(inputs: readonly SettleAttemptInput[]): Promise<SettleAttemptOutcome[]> {
    const outcomes = await this.billing.settleAttempts(
      inputs.map((input) => ({
        orgId: input.orgId,
        providerOrgId: input.providerOrgId ?? cloudProviderOrgId('gcp'),
        jobId: input.jobId,
        attemptId: input.attemptId,
        holdId: input.holdId ?? undefined,
        gpuModel: input.gpuModel,
        gpuCount: input.gpuCount,
        priceMicrosPerGpuHour: input.priceMicrosPerGpuHour,
        attempt: { runningAt: input.runningAt, endedAt: input.endedAt, endReason: billedEndReason(input.endReason), lastHeartbeatAt: input.lastHeartbeatAt },
        budgetCapMicros: input.budgetCapMicros,
        continueJob: input.continueJob,
      })),
    );
    return outcomes.map((outcome) =>
      outcome.ok ? { ok: true, chargedMicros: outcome.settlement.chargedMicros, billableSeconds: outcome.settlement.billableSeconds, nextHoldId: outcome.settlement.nextHoldId } : outcome,
    );
  }

  costSoFar(input: { priceMicrosPerGpuHour: bigint; gpuCount: number; runningAt: Date | null; now: Date }): bigint {
    return this.billing.liveCost({ priceMicrosPerGpuHour: input.priceMicrosPerGpuHour, gpuCount: input.gpuCount, runningAt: input.runningAt, endedAt: null, endReason: null, lastHeartbeatAt: null }, input.now).costMicros;
  }
}

/**
 * Compute: provisioning and stopping through the provider adapters, community node reservations,
 * node liveness for recovery and billing, and verification of node-signed attempt events. A cloud
 * machine's anneal-agent joins as a node of its attempt (CloudNodesService), after which the
 * attempt runs exactly as on a community node.
 */
@Injectable()
export class ComputeBinding implements ComputePort {
  /** Node ids by registered public key (a key belongs to one node for good). */
  private readonly nodeIdsByKey = new Map<string, string>();

  constructor(
    private readonly providers: ProvidersService,
    private readonly cloudNodes: CloudNodesService,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async provision(input: ProvisionInput) {
    const registry = await this.providers.registry();
    const { providerKind, region, offerId, offerType } = input.offer;
    const provider = registry.get(providerKind);
    if (!provider) throw new ProvisioningError(`${providerKind} is not configured`, { providerKind, region });
    if (providerKind === 'community') return provider.provision({ attemptId: input.attemptId, offerId, assignment: input.assignment });
    // A cloud machine starts anneal-agent with a one-time join token bound to this attempt; the
    // assignment waits, sealed, until that agent has registered (CloudNodesService).
    const agent = offerType === 'machine' ? await this.agentBootstrap(input) : undefined;
    // One that ended while its machine was starting is stopped by the scheduler, once the instance is recorded.
    return provider.provision({ attemptId: input.attemptId, offerId, ...(agent ? { agent } : {}) });
  }

  private async agentBootstrap(input: ProvisionInput): Promise<AgentBootstrap> {
    const { providerKind, region } = input.offer;
    const apiUrl = this.config.PUBLIC_API_URL;
    if (!apiUrl) throw new ProvisioningError('cloud machines cannot join this Anneal: its public API URL (PUBLIC_API_URL) is not configured', { providerKind, region });
    const joinToken = await this.cloudNodes.issueJoinToken(input.attemptId, input.assignment);
    if (!joinToken) throw new ProvisioningError('the attempt ended before its machine was started', { providerKind, region });
    return { joinToken, apiUrl: apiUrl.replace(/\/+$/, '') };
  }

  async terminate(offer: { providerKind: ProviderKind; offerId: string }, instanceId: string, reason: 'user_canceled' | 'budget_exhausted' | 'max_duration' | 'node_lost' | 'error') {
    const registry = await this.providers.registry();
    const provider = registry.get(offer.providerKind);
    if (!provider) return;
    if (provider instanceof CommunityProvider) {
      const cancelReason = reason === 'budget_exhausted' ? 'budget_exhausted' : reason === 'max_duration' ? 'max_duration_exceeded' : reason === 'user_canceled' ? 'user_canceled' : 'rescheduled';
      await provider.terminate(instanceId, { reason: cancelReason });
      return;
    }
    await provider.terminate(instanceId);
  }

  async reserve(manager: EntityManager, picks: readonly { attemptId: string; offer: Offer }[]) {
    const granted = new Map<string, { providerOrgId: string; nodeId: string | null }>();
    const wanted = new Map<string, string>();
    for (const pick of picks) {
      if (pick.offer.providerKind !== 'community') {
        granted.set(pick.attemptId, { providerOrgId: cloudProviderOrgId(pick.offer.providerKind), nodeId: null });
        continue;
      }
      const nodeId = parseCommunityOfferId(pick.offer.offerId);
      if (nodeId && !wanted.has(nodeId)) wanted.set(nodeId, pick.attemptId);
    }
    if (wanted.size === 0) return granted;
    // Lock the free nodes in id order, skipping rows another transaction holds (taken, for this
    // round): no waiting, no deadlock between replicas. A node with a live attempt is never free,
    // whatever its reservation column says.
    const rows = returningRows<{ id: string; org_id: string; attempt_id: string }>(
      await manager.query(
        `WITH wanted AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS w(node_id, attempt_id)),
              free AS (
                SELECT n.id FROM nodes n JOIN wanted w ON w.node_id = n.id
                WHERE n.reserved_for_attempt_id IS NULL AND n.deleted_at IS NULL AND n.quarantined_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.node_id = n.id AND a.status <> 'ended')
                ORDER BY n.id FOR UPDATE OF n SKIP LOCKED)
         UPDATE nodes SET reserved_for_attempt_id = w.attempt_id FROM free, wanted w
         WHERE nodes.id = free.id AND w.node_id = free.id
         RETURNING nodes.id, nodes.org_id, w.attempt_id`,
        [[...wanted.keys()], [...wanted.values()]],
      ),
    );
    for (const row of rows) granted.set(row.attempt_id, { providerOrgId: row.org_id, nodeId: row.id });
    return granted;
  }

  async releaseNodes(releases: readonly { nodeId: string; attemptId: string }[]): Promise<void> {
    if (releases.length === 0) return;
    const nodeIds = releases.map((r) => r.nodeId);
    const attemptIds = releases.map((r) => r.attemptId);
    // A cloud machine's node exists for its attempt only: it is retired with it (credentials revoked).
    const bound: { id: string; attempt_id: string }[] = await this.dataSource.query(
      `SELECT n.id, r.attempt_id FROM nodes n JOIN unnest($1::uuid[], $2::uuid[]) AS r(node_id, attempt_id) ON n.id = r.node_id AND n.bound_attempt_id = r.attempt_id`,
      [nodeIds, attemptIds],
    );
    for (const node of bound) await this.cloudNodes.retire(node.id, node.attempt_id);
    // The rest (community nodes) together; a retired node's reservation is already gone.
    await this.dataSource.query(
      `UPDATE nodes SET reserved_for_attempt_id = NULL FROM unnest($1::uuid[], $2::text[]) AS r(node_id, attempt_id)
        WHERE nodes.id = r.node_id AND nodes.reserved_for_attempt_id = r.attempt_id`,
      [nodeIds, attemptIds],
    );
  }

  async lastHeartbeatAt(nodeId: string): Promise<Date | null> {
    const node = await this.dataSource.manager.findOneBy(Node, { id: nodeId });
    return node?.lastHeartbeatAt ?? null;
  }

  lostMachines(attemptIds: readonly string[]) {
    return this.cloudNodes.lostMachines(attemptIds);
  }

  async attemptsOnLostNodes(): Promise<string[]> {
    // Lost: went offline after having been online, or removed. A cloud machine's node is bound to its
    // attempt at registration, before its first heartbeat: offline since then is not lost (the
    // provisioning timeout ends an attempt whose machine never comes online).
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT a.id FROM attempts a JOIN nodes n ON n.id = a.node_id
        WHERE a.status <> 'ended' AND ((n.state = 'offline' AND n.state_changed_at > n.created_at) OR n.deleted_at IS NOT NULL)`,
    );
    return rows.map((row) => row.id);
  }

  async openAttemptEvent(subject: string, data: Uint8Array): Promise<OpenedAttemptEvent> {
    const signer = claimedSigner(data);
    if (!signer) return { ok: false, reason: 'bad_signature' };
    let nodeId = this.nodeIdsByKey.get(signer);
    if (nodeId === undefined) {
      const node = await this.dataSource.manager.findOneBy(Node, { publicKey: signer });
      if (!node) return { ok: false, reason: 'bad_signature' };
      nodeId = node.id;
      this.nodeIdsByKey.set(signer, nodeId);
    }
    // The protocol's own check (native Ed25519, keys parsed once per process, and an event the
    // provider adapter already verified, such as `accepted`, is not verified again).
    const opened = openSignedMessage(attemptEventSchema, subject, data, signer);
    if (!opened.ok) return { ok: false, reason: opened.error.code === 'invalid_payload' || opened.error.code === 'unsupported_schema_version' ? 'invalid_payload' : 'bad_signature' };
    if (opened.value.nodeId !== nodeId) return { ok: false, reason: 'bad_signature' };
    return { ok: true, event: opened.value };
  }
}

/** Estimates with the live benchmark snapshot: the same estimator and table the quote endpoint uses. */
@Injectable()
export class EstimateBinding implements EstimatePort {
  constructor(
    private readonly snapshots: BenchmarkSnapshotService,
    private readonly quotes: EstimatesRepository,
  ) {}

  private prepare(input: EstimateInput): PreparedJob {
    const dataset = input.dataset?.samples ? { samples: input.dataset.samples } : input.dataset?.tokens ? { tokens: input.dataset.tokens } : undefined;
    const prepared = prepareJob({
      recipe: {
        modelId: input.recipe.baseModelId,
        method: input.recipe.method,
        precision: input.recipe.precision,
        quantization: input.recipe.quantization,
        seqLen: input.recipe.sequenceLength,
        resolution: input.recipe.imageResolution,
        batchSize: input.recipe.batchSize,
        gradAccum: input.recipe.gradientAccumulation,
      },
      steps: input.steps,
      epochs: input.steps ? undefined : input.epochs,
      dataset: input.steps ? undefined : dataset,
      validation: input.validation,
    });
    if (!prepared.ok) throw estimateFailure(prepared.error);
    return prepared.value;
  }

  resolveSteps(input: EstimateInput): number {
    return this.prepare(input).steps;
  }

  assertFits(input: EstimateInput, gpuModel: string, gpuCount: number): void {
    const job = this.prepare(input);
    const gpu = lookupGpu(gpuModel);
    if (gpu.kind === 'unknown') throw unprocessable('unknown_gpu', `"${gpuModel}" is not a GPU model Anneal knows; see GET /v1/gpu-types.`);
    const fit = checkMemoryFit(job.recipe, gpu.gpu, gpuCount);
    if (!fit.ok) throw unprocessable('does_not_fit_memory', `This recipe ${fit.error.message}: choose a larger GPU, more GPUs, QLoRA or a shorter sequence.`, { needGb: fit.needGb, haveGb: fit.haveGb });
  }

  async estimate(input: EstimateInput, offers: Offer[]): Promise<QuoteRow[]> {
    const table = buildEstimateTable(this.prepare(input), offers, this.snapshots.snapshot);
    const byId = new Map(offers.map((offer) => [offer.offerId, offer]));
    return Array.from({ length: table.rowCount }, (_, position) => rowToQuote(table.row(position), byId));
  }

  async findQuote(orgId: string, quoteId: string, now: Date) {
    // Through the repository: a quote answered moments ago may still be on its way to the table.
    const quote = await this.quotes.findForOrg(quoteId, orgId);
    if (!quote || quote.expiresAt <= now) return null;
    return { id: quote.id, rows: (quote.rows as EstimateRow[]).map((row) => rowToQuote(row, new Map())) };
  }
}

function rowToQuote(row: EstimateRow, offers: ReadonlyMap<string, Offer>): QuoteRow {
  const offer: Offer = offers.get(row.offerId) ?? {
    providerKind: row.providerKind as ProviderKind,
    offerId: row.offerId,
    offerType: row.offerType as Offer['offerType'],
    gpuModelId: row.gpu.id,
    gpuCount: row.gpuCount,
    vramGb: row.vramGb,
    region: row.region,
    zone: null,
    priceMicrosPerGpuHour: BigInt(row.priceMicrosPerGpuHour),
    spot: row.spot,
    reliability: row.reliability,
    availability: row.availability as Offer['availability'],
    simulated: row.simulated,
  };
  return {
    offer,
    runtimeSeconds: row.runtimeSeconds,
    costMicros: { p10: BigInt(row.costMicros.p10), p50: BigInt(row.costMicros.p50), p90: BigInt(row.costMicros.p90) },
    basis: row.basis,
    summary: row.sentence,
  };
}
