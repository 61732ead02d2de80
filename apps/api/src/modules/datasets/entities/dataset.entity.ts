import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintTransformer } from '../../../core/database/bigint.transformer.js';
import { Organization } from '../../orgs/entities/organization.entity.js';

export const DATASET_FORMATS = ['jsonl', 'csv', 'parquet', 'tar', 'zip'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** uploading → ready | failed (size or checksum wrong); any → deleted. */
export const DATASET_STATUSES = ['uploading', 'ready', 'failed', 'deleted'] as const;
export type DatasetStatus = (typeof DATASET_STATUSES)[number];

export type DatasetUploadKind = 'single' | 'multipart';
export type DatasetDeletionReason = 'user' | 'expired' | 'after_training' | 'account_deleted';

@Entity('datasets')
@Index('datasets_org_id_created_at_idx', ['orgId', 'createdAt'])
@Index('datasets_org_id_idempotency_key', ['orgId', 'idempotencyKey'], { unique: true, where: 'idempotency_key IS NOT NULL' })
export class Dataset {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'datasets_org_id_fkey' })
  org?: Relation<Organization>;

  @Column('uuid', { name: 'created_by' })
  createdBy!: string;

  @Column('text')
  name!: string;

  @Column('text')
  format!: DatasetFormat;

  @Column('text', { name: 'declared_license', nullable: true })
  declaredLicense!: string | null;

  /** The size the client declared; the object must match it exactly. */
  @Column('bigint', { name: 'size_bytes', transformer: bigintTransformer })
  sizeBytes!: bigint;

  /** Lower-case hex SHA-256 the client declared; verified against the stored bytes. */
  @Column('text')
  sha256!: string;

  @Column('text', { name: 'storage_key' })
  storageKey!: string;

  @Column('text')
  status!: DatasetStatus;

  @Column('text', { name: 'upload_kind' })
  uploadKind!: DatasetUploadKind;

  @Column('text', { name: 'multipart_upload_id', nullable: true })
  multipartUploadId!: string | null;

  @Column('bigint', { name: 'part_size_bytes', nullable: true, transformer: bigintTransformer })
  partSizeBytes!: bigint | null;

  @Column('integer', { name: 'part_count', nullable: true })
  partCount!: number | null;

  /** Rows/records/files where they can be read cheaply; null when not. */
  @Column('bigint', { name: 'sample_count', nullable: true, transformer: bigintTransformer })
  sampleCount!: bigint | null;

  /** Estimated from the text (~4 characters per token); null when not estimated. */
  @Column('bigint', { name: 'token_count_estimate', nullable: true, transformer: bigintTransformer })
  tokenCountEstimate!: bigint | null;

  @Column('integer', { name: 'ttl_days' })
  ttlDays!: number;

  @Column('boolean', { name: 'delete_after_training' })
  deleteAfterTraining!: boolean;

  /** Server-side encryption the object was written with (requested on every write). */
  @Column('text', { name: 'encryption' })
  encryption!: string;

  /** The object's ETag when it was verified; a different one later means it was overwritten. */
  @Column('text', { name: 'verified_etag', nullable: true })
  verifiedEtag!: string | null;

  @Column('text', { name: 'failure_code', nullable: true })
  failureCode!: string | null;

  /** The Idempotency-Key of the request that created it, if any (unique per org). */
  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Index('datasets_expires_at_idx', { where: "status <> 'deleted'" })
  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt!: Date | null;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;

  @Column('text', { name: 'deletion_reason', nullable: true })
  deletionReason!: DatasetDeletionReason | null;
}
