import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Job } from './job.entity.js';

/** A training log line (kept 90 days). */
@Entity('job_logs')
@Index('job_logs_job_seq_idx', ['jobId', 'seq'])
@Index('job_logs_at_idx', ['at'])
export class JobLog {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'job_id' }) jobId!: string;
  @ManyToOne(() => Job, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'job_logs_job_id_fkey' })
  job?: Relation<Job>;
  @Column('uuid', { name: 'attempt_id' }) attemptId!: string;
  @Column('bigint') seq!: string;
  @Column('timestamptz') at!: Date;
  @Column('text') stream!: string;
  @Column('text') line!: string;
}
