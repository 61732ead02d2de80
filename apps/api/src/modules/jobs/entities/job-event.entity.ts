import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Job } from './job.entity.js';

/** Every transition and notable happening of a job, in order: its timeline. */
@Entity('job_events')
@Index('job_events_job_time_idx', ['jobId', 'at'])
export class JobEvent {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'job_id' }) jobId!: string;
  @ManyToOne(() => Job, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'job_events_job_id_fkey' })
  job?: Relation<Job>;
  @Column('uuid', { name: 'attempt_id', nullable: true }) attemptId!: string | null;
  @Column('timestamptz') at!: Date;
  @Column('text') type!: string;
  @Column('text', { name: 'from_status', nullable: true }) fromStatus!: string | null;
  @Column('text', { name: 'to_status', nullable: true }) toStatus!: string | null;
  @Column('text') message!: string;
  @Column('jsonb', { default: {} }) data!: Record<string, unknown>;
}
