import { Inject, Injectable } from '@nestjs/common';
import { CHECKPOINT_SLOTS_PER_ATTEMPT, parseUploadSlot, type PresignedDownload, type PresignedUpload, type ResumeCheckpointDownload } from '@anneal/providers';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { AppError, badRequest } from '../../core/errors/app-error.js';
import { ObjectStorage, StorageUnavailableError } from '../../core/storage/object-storage.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import type { Attempt } from '../jobs/entities/attempt.entity.js';
import { AttemptAccessRepository } from './attempt-access.repository.js';
import { attemptObjectKey, jobObjectPrefix } from './attempt-object-keys.js';

/**
 * Short-lived presigned URLs for a live attempt (the guard has checked its token): the dataset to
 * download, the checkpoint to resume from, and one PUT per upload slot. The agent asks right before
 * each transfer, so no URL outlives its attempt by more than `ATTEMPT_URL_TTL_SECONDS`.
 */
@Injectable()
export class AttemptAccessService {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly datasets: DatasetsService,
    private readonly repository: AttemptAccessRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The job's dataset (404 `not_found` or 409 `dataset_not_ready` when it was deleted or replaced meanwhile). */
  async datasetDownload(attempt: Attempt): Promise<PresignedDownload> {
    const now = this.clock.now();
    const datasetId = await this.repository.datasetIdOf(attempt);
    if (!datasetId) throw new AppError(404, 'not_found', 'Dataset was not found.');
    const getUrl = await this.datasets.presignedGetUrl(datasetId, this.ttlSeconds);
    return { getUrl, expiresAt: this.expiresAt(now) };
  }

  /** The latest checkpoint of an earlier attempt of the job; 404 `no_resume_checkpoint` when there is none. */
  async resumeCheckpointDownload(attempt: Attempt): Promise<ResumeCheckpointDownload> {
    const checkpoint = await this.repository.latestCheckpointBefore(attempt);
    // Keys come from agents' events: only ever sign one inside this job's own prefix.
    if (!checkpoint || !checkpoint.key.startsWith(jobObjectPrefix(attempt.orgId, attempt.jobId))) {
      throw new AppError(404, 'no_resume_checkpoint', 'This job has no checkpoint from an earlier attempt to resume from.');
    }
    const get = await this.withStorage(() => this.storage.presignGet(checkpoint.key, this.ttlSeconds, this.clock.now()));
    return { getUrl: get.url, step: checkpoint.step, sizeBytes: checkpoint.sizeBytes, expiresAt: get.expiresAt.toISOString() };
  }

  /** A PUT URL for one slot (`artifact`, `logs`, `checkpoint-001` … `checkpoint-008`) at the key the API chose for it. */
  async upload(attempt: Attempt, slotName: string): Promise<PresignedUpload> {
    const slot = parseUploadSlot(slotName);
    if (!slot) {
      throw badRequest('invalid_upload_slot', `There is no upload slot '${slotName.slice(0, 40)}': use artifact, logs, or checkpoint-001 to checkpoint-${String(CHECKPOINT_SLOTS_PER_ATTEMPT).padStart(3, '0')}.`);
    }
    const key = attemptObjectKey(attempt, slot);
    const put = await this.withStorage(() => this.storage.presignPut(key, this.ttlSeconds, this.clock.now()));
    return { key, putUrl: put.url, headers: put.headers, expiresAt: put.expiresAt.toISOString() };
  }

  private get ttlSeconds(): number {
    return this.config.ATTEMPT_URL_TTL_SECONDS;
  }

  private expiresAt(now: Date): string {
    return new Date(now.getTime() + this.ttlSeconds * 1000).toISOString();
  }

  private async withStorage<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof StorageUnavailableError) throw new AppError(503, 'storage_unavailable', 'File storage is unavailable right now; try again in a minute.');
      throw error;
    }
  }
}
