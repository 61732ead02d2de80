import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../../users/entities/user.entity.js';

export type DataExportStatus = 'queued' | 'running' | 'ready' | 'failed' | 'expired';

/** One personal data export: a JSON archive of everything about a user and their orgs, in object storage. */
@Entity('data_exports')
@Check('data_exports_status_check', `status IN ('queued', 'running', 'ready', 'failed', 'expired')`)
@Check('data_exports_progress_pct_check', `progress_pct BETWEEN 0 AND 100`)
@Index('data_exports_user_created_idx', ['userId', 'createdAt'])
@Index('data_exports_queued_idx', ['createdAt'], { where: "status = 'queued'" })
export class DataExport {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'user_id' }) userId!: string;
  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'data_exports_user_id_fkey' })
  user?: Relation<User>;
  @Column('text', { default: 'queued' }) status!: DataExportStatus;
  @Column('integer', { name: 'progress_pct', default: 0 }) progressPct!: number;
  @Column('text', { name: 'object_key', nullable: true }) objectKey!: string | null;
  @Column('bigint', { name: 'size_bytes', nullable: true }) sizeBytes!: string | null;
  @Column('text', { nullable: true }) failure!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt!: Date | null;
}
