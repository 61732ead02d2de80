import type { AttemptEvent, Offer, OfferQuery, ProviderKind, ProvisionedInstance } from '@anneal/providers';
import type { EntityManager } from 'typeorm';

/**
 * What the jobs feature needs from its neighbours, each in the fewest words. The module binds
 * each port to the real service (datasets, moderation, estimates, offers, providers, billing,
 * storage); the integration tests run with those same bindings.
 */

export interface TrainableDataset {
  id: string;
  sizeBytes: number;
  sha256: string;
  sampleCount: number | null;
  tokenCount: number | null;
  deleteAfterTraining: boolean;
}

export interface DatasetPort {
  /** The org's dataset, ready and passed by moderation; otherwise a user-facing AppError. */
  requireTrainable(orgId: string, datasetId: string): Promise<TrainableDataset>;
  /** A scheduler round's datasets at once, by id: those still trainable (owned, ready, passed). */
  trainableMany(refs: readonly { orgId: string; datasetId: string }[]): Promise<Map<string, TrainableDataset>>;
  presignedGetUrl(datasetId: string, ttlSeconds: number): Promise<string>;
  deleteAfterTraining(datasetId: string): Promise<void>;
}

export interface ModerationPort {
  /** Rule-based checks of the submission; stores the result. */
  checkJob(input: { orgId: string; jobId: string; baseModelId: string; datasetId: string; name: string; configuration?: unknown }): Promise<{ passed: boolean; reasons: { code: string; message: string }[] }>;
}

export interface QuoteRow {
  offer: Offer;
  runtimeSeconds: { p10: number; p50: number; p90: number };
  costMicros: { p10: bigint; p50: bigint; p90: bigint };
  basis: string;
  summary: string;
}

export interface EstimatePort {
  /** An unexpired quote of this org, as rows per offer; null when missing or expired. */
  findQuote(orgId: string, quoteId: string, now: Date): Promise<{ id: string; rows: QuoteRow[] } | null>;
  /** Estimates a recipe across the given offers (rows for those it fits; refusals as errors). */
  estimate(input: EstimateInput, offers: Offer[]): Promise<QuoteRow[]>;
  /** Steps derived from epochs and the dataset size, or validated steps. */
  resolveSteps(input: EstimateInput): number;
  /** Refuses a recipe that cannot fit the GPU: a 422 AppError with the figures. */
  assertFits(input: EstimateInput, gpuModel: string, gpuCount: number): void;
}

export interface EstimateInput {
  recipe: {
    baseModelId: string;
    method: string;
    precision: string;
    quantization: string;
    sequenceLength?: number;
    imageResolution?: { width: number; height: number };
    batchSize: number;
    gradientAccumulation: number;
  };
  steps?: number;
  epochs?: number;
  dataset?: { samples?: number | null; tokens?: number | null };
  validation?: { runs: number; promptsPerRun: number };
}

export interface OfferPort {
  list(query: OfferQuery & { providerKinds?: ProviderKind[] }): Promise<Offer[]>;
}

export interface ProvisionInput {
  attemptId: string;
  offer: Offer;
  /** The signed assignment for community nodes (built by the jobs service). */
  assignment: unknown;
}

/** An attempt event as received: verified and valid, or why it was refused (forged or from an unknown node; or not a valid event). */
export type OpenedAttemptEvent = { ok: true; event: AttemptEvent } | { ok: false; reason: 'bad_signature' | 'invalid_payload' };

export interface ComputePort {
  /** Reserves (community) and starts the machine; typed provider errors on failure. */
  provision(input: ProvisionInput): Promise<ProvisionedInstance>;
  terminate(offer: { providerKind: ProviderKind; offerId: string }, instanceId: string, reason: 'user_canceled' | 'budget_exhausted' | 'max_duration' | 'node_lost' | 'error'): Promise<void>;
  /** Last heartbeat of a community node (billing never passes it for a lost node). */
  lastHeartbeatAt(nodeId: string): Promise<Date | null>;
  /** Live attempts whose node (a community host, or the node a cloud machine joined as) is now offline or removed. */
  attemptsOnLostNodes(): Promise<string[]>;
  /** Why each of these attempts' machines went silent: `preempted` when its provider reclaimed a spot machine, else `node_lost`. One entry per id. */
  lostMachines(attemptIds: readonly string[]): Promise<Map<string, { reason: 'preempted' | 'node_lost'; message: string }>>;
  /** Verifies a node-signed attempt event against its node's key and checks it against the protocol's schema. */
  openAttemptEvent(subject: string, data: Uint8Array): Promise<OpenedAttemptEvent>;
  /**
   * Inside a scheduler round's transaction: the capacity each pick asks for, reserved for its
   * attempt. Community nodes are reserved in one statement (a node another replica holds or has
   * reserved is refused, never waited for); cloud offers are granted here and checked when the
   * machine is provisioned. Returns the granted picks by attempt id, with who earns from them.
   */
  reserve(manager: EntityManager, picks: readonly { attemptId: string; offer: Offer }[]): Promise<Map<string, { providerOrgId: string; nodeId: string | null }>>;
  /** Frees the nodes of ended attempts (each only while still reserved for that attempt); a cloud machine's node is retired. */
  releaseNodes(releases: readonly { nodeId: string; attemptId: string }[]): Promise<void>;
}

export interface BillingPort {
  /** Holds the amount (402 `insufficient_credits` when the balance cannot cover it). */
  placeJobHold(input: { orgId: string; jobId: string; amountMicros: bigint }): Promise<{ holdId: string }>;
  releaseJobHold(jobId: string, holdId: string | null): Promise<void>;
  /**
   * Settles ended attempts (of different jobs) in the ledger together; each attempt's outcome is
   * what settling it alone would give: its charge, or the error that kept it unsettled.
   */
  settleAttempts(inputs: readonly SettleAttemptInput[]): Promise<SettleAttemptOutcome[]>;
  costSoFar(input: { priceMicrosPerGpuHour: bigint; gpuCount: number; runningAt: Date | null; now: Date }): bigint;
}

export interface SettleAttemptInput {
  orgId: string;
  jobId: string;
  attemptId: string;
  holdId: string | null;
  providerOrgId: string | null;
  gpuModel: string;
  gpuCount: number;
  priceMicrosPerGpuHour: bigint;
  runningAt: Date | null;
  endedAt: Date;
  lastHeartbeatAt: Date | null;
  endReason: string;
  /** What remains of the job's budget cap; null for no cap. */
  budgetCapMicros: bigint | null;
  /** The job goes on with another attempt: the remainder is held again under a new hold. */
  continueJob: boolean;
}

export type SettleAttemptOutcome = { ok: true; chargedMicros: bigint; billableSeconds: number; nextHoldId: string | null } | { ok: false; error: unknown };

export interface StoragePort {
  /** A presigned PUT and the headers its signature covers (the uploader must send them). */
  presignPut(key: string, ttlSeconds: number): Promise<{ url: string; headers: Record<string, string> }>;
  presignGet(key: string, ttlSeconds: number, downloadName?: string): Promise<string>;
  deleteObjects(keys: string[]): Promise<void>;
}

export const DATASET_PORT = Symbol('DATASET_PORT');
export const MODERATION_PORT = Symbol('MODERATION_PORT');
export const ESTIMATE_PORT = Symbol('ESTIMATE_PORT');
export const OFFER_PORT = Symbol('OFFER_PORT');
export const COMPUTE_PORT = Symbol('COMPUTE_PORT');
export const BILLING_PORT = Symbol('BILLING_PORT');
export const STORAGE_PORT = Symbol('STORAGE_PORT');
