import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../../../core/database/bigint.transformer.js';
import type { JobStatus } from '../job-state.js';

export interface JobRecipe {
  baseModelId: string;
  method: 'lora' | 'qlora' | 'full';
  precision: string;
  quantization: string;
  sequenceLength?: number;
  imageResolution?: { width: number; height: number };
  batchSize: number;
  gradientAccumulation: number;
  steps?: number;
  epochs?: number;
  learningRate?: number;
  loraRank?: number;
  validationPrompts: string[];
  validationInterval?: number;
  runner?: 'synthetic' | 'container' | 'process';
  image?: string;
}

export interface JobResources {
  gpuModel?: string;
  minVramGb?: number;
  gpuCount: number;
  region?: string;
}

/** The quote row the job was submitted with: what the customer saw. */
export interface SubmittedQuote {
  quoteId: string | null;
  offerId: string | null;
  runtimeSeconds: { p10: number; p50: number; p90: number };
  costMicros: { p10: string; p50: string; p90: string };
  basis: string;
  summary: string;
}

@Entity('jobs')
@Index('jobs_org_created_idx', ['orgId', 'createdAt'])
@Index('jobs_org_idempotency_key', ['orgId', 'idempotencyKey'], { unique: true, where: 'idempotency_key IS NOT NULL' })
@Index('jobs_schedulable_idx', ['nextAttemptAt'], { where: "status = 'queued'" })
export class Job {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'org_id' }) orgId!: string;
  @Column('uuid', { name: 'created_by' }) createdBy!: string;
  @Column('text') name!: string;
  @Column('text') status!: JobStatus;
  @Column('jsonb') recipe!: JobRecipe;
  @Column('uuid', { name: 'dataset_id' }) datasetId!: string;
  @Column('jsonb') resources!: JobResources;
  @Column('text', { name: 'provider_allowlist', array: true }) providerAllowlist!: string[];
  @Column('bigint', { name: 'max_price_micros_per_gpu_hour', nullable: true, transformer: bigintTransformer }) maxPriceMicrosPerGpuHour!: bigint | null;
  @Column('bigint', { name: 'budget_cap_micros', nullable: true, transformer: bigintTransformer }) budgetCapMicros!: bigint | null;
  @Column('bigint', { name: 'hold_micros', transformer: bigintTransformer, default: 0 }) holdMicros!: bigint;
  /** The ledger hold that covers the job's next charge (re-held for each further attempt). */
  @Column('text', { name: 'hold_id', nullable: true }) holdId!: string | null;
  @Column('jsonb', { name: 'submitted_quote', nullable: true }) submittedQuote!: SubmittedQuote | null;
  @Column('integer') steps!: number;
  @Column('integer', { name: 'max_duration_seconds' }) maxDurationSeconds!: number;
  @Column('integer', { name: 'max_attempts', default: 3 }) maxAttempts!: number;
  @Column('integer', { name: 'attempt_count', default: 0 }) attemptCount!: number;
  @Column('integer', { name: 'failed_rounds', default: 0 }) failedRounds!: number;
  @Column('text', { name: 'idempotency_key', nullable: true }) idempotencyKey!: string | null;
  @Column('text', { name: 'request_hash', nullable: true }) requestHash!: string | null;
  /** Why a queued job is waiting, in words ("3 offers skipped: GCP us-central1: quota exceeded; …"). */
  @Column('text', { name: 'wait_reason', nullable: true }) waitReason!: string | null;
  @Column('timestamptz', { name: 'next_attempt_at' }) nextAttemptAt!: Date;
  @Column('text', { name: 'last_checkpoint_key', nullable: true }) lastCheckpointKey!: string | null;
  @Column('text', { name: 'final_message', nullable: true }) finalMessage!: string | null;
  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true }) cancelRequestedAt!: Date | null;
  /** Object keys of the final artifacts, downloadable during the download window. */
  @Column('text', { name: 'artifact_keys', array: true, default: () => "'{}'" }) artifactKeys!: string[];
  @Column('bigint', { name: 'cost_micros', transformer: bigintTransformer, default: 0 }) costMicros!: bigint;
  @Column('integer', { name: 'runtime_seconds', nullable: true }) runtimeSeconds!: number | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}
