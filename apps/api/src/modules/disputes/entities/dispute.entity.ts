import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../../../core/database/bigint.transformer.js';
import type { DisputeEvidence } from '../dispute-evidence.js';
import type { SuggestedOutcome } from '../dispute-suggestion.js';

export const DISPUTE_REASONS = ['node_failed', 'slower_than_offered', 'wrong_gpu', 'billed_wrongly', 'other'] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];
export type DisputeStatus = 'open' | 'answered' | 'resolved';
export const DISPUTE_RESOLUTIONS = ['full_refund', 'partial_refund', 'rejected'] as const;
export type DisputeResolution = (typeof DISPUTE_RESOLUTIONS)[number];

/** The suggestion as stored (money as a string in jsonb). */
export interface StoredSuggestion {
  outcome: SuggestedOutcome;
  refundMicros: string;
  reason: string;
  findings: string[];
}

/** What an admin imposed on the provider alongside the resolution. */
export interface DisputeConsequences {
  reliabilityPenalty?: number;
  quarantinedNodeId?: string;
}

/**
 * A customer's dispute over one attempt: opened with a reason, answered once by the provider,
 * decided by an admin. The evidence and the suggestion are frozen when it is opened.
 */
@Entity('disputes')
@Check('disputes_reason_ck', "reason IN ('node_failed', 'slower_than_offered', 'wrong_gpu', 'billed_wrongly', 'other')")
@Check('disputes_status_ck', "status IN ('open', 'answered', 'resolved')")
@Check('disputes_resolution_ck', "resolution IS NULL OR resolution IN ('full_refund', 'partial_refund', 'rejected')")
@Check('disputes_refund_ck', 'refund_micros IS NULL OR (refund_micros >= 0 AND refund_micros <= charged_micros)')
@Index('disputes_customer_org_created_idx', ['customerOrgId', 'createdAt'])
@Index('disputes_provider_org_created_idx', ['providerOrgId', 'createdAt'])
@Index('disputes_status_created_idx', ['status', 'createdAt'])
export class Dispute {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'job_id' }) jobId!: string;
  @Index('disputes_attempt_id_key', { unique: true })
  @Column('uuid', { name: 'attempt_id' })
  attemptId!: string;
  @Column('uuid', { name: 'customer_org_id' }) customerOrgId!: string;
  @Column('uuid', { name: 'provider_org_id', nullable: true }) providerOrgId!: string | null;
  @Column('text', { name: 'provider_kind' }) providerKind!: string;
  @Column('uuid', { name: 'node_id', nullable: true }) nodeId!: string | null;
  @Column('uuid', { name: 'opened_by' }) openedBy!: string;
  @Column('text') reason!: DisputeReason;
  @Column('text') description!: string;
  @Column('text') status!: DisputeStatus;
  @Column('bigint', { name: 'charged_micros', transformer: bigintTransformer }) chargedMicros!: bigint;
  @Column('jsonb') evidence!: DisputeEvidence;
  @Column('jsonb') suggestion!: StoredSuggestion;
  @Column('text', { name: 'provider_statement', nullable: true }) providerStatement!: string | null;
  @Column('uuid', { name: 'provider_responded_by', nullable: true }) providerRespondedBy!: string | null;
  @Column('timestamptz', { name: 'provider_responded_at', nullable: true }) providerRespondedAt!: Date | null;
  @Column('text', { nullable: true }) resolution!: DisputeResolution | null;
  @Column('bigint', { name: 'refund_micros', nullable: true, transformer: bigintTransformer }) refundMicros!: bigint | null;
  @Column('bigint', { name: 'refund_from_provider_micros', nullable: true, transformer: bigintTransformer }) refundFromProviderMicros!: bigint | null;
  @Column('bigint', { name: 'refund_from_platform_micros', nullable: true, transformer: bigintTransformer }) refundFromPlatformMicros!: bigint | null;
  /** The provider's part the platform advanced because its earnings were already paid out (see `ProviderReceivable`). */
  @Column('bigint', { name: 'receivable_micros', nullable: true, transformer: bigintTransformer }) receivableMicros!: bigint | null;
  @Column('text', { name: 'resolution_note', nullable: true }) resolutionNote!: string | null;
  @Column('jsonb', { nullable: true }) consequences!: DisputeConsequences | null;
  @Column('uuid', { name: 'resolved_by', nullable: true }) resolvedBy!: string | null;
  @Column('timestamptz', { name: 'resolved_at', nullable: true }) resolvedAt!: Date | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
