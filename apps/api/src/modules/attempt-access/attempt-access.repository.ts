import { Injectable } from '@nestjs/common';
import { DataSource, Not } from 'typeorm';
import { Attempt } from '../jobs/entities/attempt.entity.js';
import { JobEvent } from '../jobs/entities/job-event.entity.js';
import { Job } from '../jobs/entities/job.entity.js';

/** A checkpoint an earlier attempt of the job reported (from the job's `checkpoint` events). */
export interface ReportedCheckpoint {
  key: string;
  step: number;
  sizeBytes: number | null;
}

/** The only file of attempt-access that speaks TypeORM: reads, never writes. */
@Injectable()
export class AttemptAccessRepository {
  constructor(private readonly dataSource: DataSource) {}

  findAttempt(id: string): Promise<Attempt | null> {
    return this.dataSource.manager.findOneBy(Attempt, { id });
  }

  async datasetIdOf(attempt: Pick<Attempt, 'jobId'>): Promise<string | null> {
    const job = await this.dataSource.manager.findOne(Job, { where: { id: attempt.jobId }, select: { id: true, datasetId: true } });
    return job?.datasetId ?? null;
  }

  /**
   * The latest checkpoint another attempt of the same job reported: what the scheduler resumes
   * from (the job's last checkpoint when the attempt was placed). The attempt's own checkpoints
   * never count, so asking again after checkpointing still answers the same one.
   */
  async latestCheckpointBefore(attempt: Pick<Attempt, 'id' | 'jobId'>): Promise<ReportedCheckpoint | null> {
    const event = await this.dataSource.manager.findOne(JobEvent, { where: { jobId: attempt.jobId, type: 'checkpoint', attemptId: Not(attempt.id) }, order: { at: 'DESC' } });
    const data = event?.data ?? {};
    if (typeof data.key !== 'string' || typeof data.step !== 'number') return null;
    return { key: data.key, step: data.step, sizeBytes: typeof data.sizeBytes === 'number' ? data.sizeBytes : null };
  }
}
