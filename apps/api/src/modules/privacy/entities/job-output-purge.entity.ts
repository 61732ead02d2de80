import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Job } from '../../jobs/entities/job.entity.js';

/** A job whose stored outputs (artifacts, checkpoints, uploaded logs) were deleted; the job row stays. */
@Entity('job_output_purges')
export class JobOutputPurge {
  @PrimaryColumn('uuid', { name: 'job_id' }) jobId!: string;
  @ManyToOne(() => Job, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'job_output_purges_job_id_fkey' })
  job?: Relation<Job>;
  @Column('uuid', { name: 'org_id' }) orgId!: string;
  @Column('integer', { name: 'objects_deleted' }) objectsDeleted!: number;
  /** 'retention' (download window over) or 'account_deleted'. */
  @Column('text') reason!: string;
  @Column('timestamptz', { name: 'purged_at' }) purgedAt!: Date;
}
