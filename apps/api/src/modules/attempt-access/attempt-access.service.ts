import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { AppError } from '../../core/errors/app-error.js';
import { ObjectStorage, StorageUnavailableError } from '../../core/storage/object-storage.js';
import type { Attempt } from '../jobs/entities/attempt.entity.js';
import type { UploadUrlsResponseDto } from './attempt-access.dto.js';

/** Presigned upload URLs a live attempt may ask for; they last at most an hour. */
export const ATTEMPT_UPLOAD_URL_TTL_SECONDS = 3600;

@Injectable()
export class AttemptAccessService {
  constructor(
    private readonly storage: ObjectStorage,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  /** Fresh PUT URLs under the attempt's own prefix `jobs/<org>/<job>/<attempt>/`: nothing else can be written with them. */
  async uploadUrls(attempt: Attempt, kind: 'checkpoint' | 'log', count: number): Promise<UploadUrlsResponseDto> {
    const base = `jobs/${attempt.orgId}/${attempt.jobId}/${attempt.id}`;
    const now = this.clock.now();
    try {
      const urls = await Promise.all(
        Array.from({ length: count }, async () => {
          const key = kind === 'checkpoint' ? `${base}/checkpoints/checkpoint-${this.newId()}.bin` : `${base}/logs/log-${this.newId()}.txt`;
          const put = await this.storage.presignPut(key, ATTEMPT_UPLOAD_URL_TTL_SECONDS, now);
          return { key, putUrl: put.url, headers: put.headers, expiresAt: put.expiresAt.toISOString() };
        }),
      );
      return { urls };
    } catch (error) {
      if (error instanceof StorageUnavailableError) throw new AppError(503, 'storage_unavailable', 'File storage is unavailable right now; try again in a minute.');
      throw error;
    }
  }
}
