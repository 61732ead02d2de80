import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Job } from './job.entity.js';

/** One training step's metrics (kept 90 days): the loss curve and step times. */
@Entity('job_metrics')
@Index('job_metrics_job_step_idx', ['jobId', 'step'])
@Index('job_metrics_at_idx', ['at'])
export class JobMetric {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'job_id' }) jobId!: string;
  @ManyToOne(() => Job, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'job_metrics_job_id_fkey' })
  job?: Relation<Job>;
  @Column('uuid', { name: 'attempt_id' }) attemptId!: string;
  @Column('timestamptz') at!: Date;
  @Column('integer') step!: number;
  @Column('double precision', { nullable: true }) loss!: number | null;
  @Column('double precision', { name: 'step_time_ms', nullable: true }) stepTimeMs!: number | null;
  @Column('double precision', { name: 'gpu_utilization_pct', nullable: true }) gpuUtilizationPct!: number | null;
}
