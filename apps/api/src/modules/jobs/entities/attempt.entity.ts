import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintTransformer } from '../../../core/database/bigint.transformer.js';
import type { AttemptStatus, EndReason } from '../job-state.js';
import { Job } from './job.entity.js';

/** One try of a job on one machine. */
@Entity('attempts')
@Index('attempts_live_node_key', ['nodeId'], { unique: true, where: "status <> 'ended' AND node_id IS NOT NULL" })
@Index('attempts_live_job_key', ['jobId'], { unique: true, where: "status <> 'ended'" })
@Index('attempts_active_job_idx', ['jobId'], { where: "status IN ('provisioning', 'running')" })
@Index('attempts_provisioning_created_idx', ['createdAt'], { where: "status = 'provisioning'" })
@Index('attempts_unsettled_idx', ['endedAt'], { where: "status = 'ended' AND billable_seconds IS NULL" })
export class Attempt {
  @PrimaryColumn('uuid') id!: string;
  @Index('attempts_job_id_idx')
  @Column('uuid', { name: 'job_id' }) jobId!: string;
  @ManyToOne(() => Job, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'attempts_job_id_fkey' })
  job?: Relation<Job>;
  @Column('uuid', { name: 'org_id' }) orgId!: string;
  @Column('integer') number!: number;
  @Column('text', { name: 'provider_kind' }) providerKind!: string;
  @Column('text', { name: 'offer_id' }) offerId!: string;
  @Column('uuid', { name: 'node_id', nullable: true }) nodeId!: string | null;
  @Column('uuid', { name: 'provider_org_id', nullable: true }) providerOrgId!: string | null;
  @Column('text', { name: 'instance_id', nullable: true }) instanceId!: string | null;
  @Column('text', { name: 'gpu_model' }) gpuModel!: string;
  @Column('integer', { name: 'gpu_count' }) gpuCount!: number;
  @Column('bigint', { name: 'price_micros_per_gpu_hour', transformer: bigintTransformer }) priceMicrosPerGpuHour!: bigint;
  @Column('text') status!: AttemptStatus;
  @Column('text', { name: 'end_reason', nullable: true }) endReason!: EndReason | null;
  @Column('text', { name: 'attempt_token_hash' }) attemptTokenHash!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'running_at', nullable: true }) runningAt!: Date | null;
  @Column('timestamptz', { name: 'ended_at', nullable: true }) endedAt!: Date | null;
  @Column('timestamptz', { name: 'last_seen_at', nullable: true }) lastSeenAt!: Date | null;
  @Column('integer', { name: 'billable_seconds', nullable: true }) billableSeconds!: number | null;
  @Column('bigint', { name: 'cost_micros', transformer: bigintTransformer, default: 0 }) costMicros!: bigint;
  @Column('integer', { name: 'last_event_seq', default: 0 }) lastEventSeq!: number;
}
