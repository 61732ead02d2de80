import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource, In, LessThan, Not, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { AppError, badRequest, conflict, notFound, unprocessable } from '../../core/errors/app-error.js';
import { LOGGER } from '../../core/logging/logger.js';
import { MultipartRejectedError, ObjectStorage, SERVER_SIDE_ENCRYPTION, StorageUnavailableError } from '../../core/storage/object-storage.js';
import { AuditService, type AuditActor } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import type { ModerationDecision } from '../moderation/moderation.service.js';
import { ModerationService } from '../moderation/moderation.service.js';
import { readTailStats } from './archive-readers.js';
import { CHARS_PER_TOKEN_ESTIMATE, streamingInspectorFor, type DatasetStats } from './dataset-inspector.js';
import { DEFAULT_TTL_DAYS, type CompleteDatasetDto, type CreateDatasetDto, type ListDatasetsQueryDto } from './dto/datasets.dto.js';
import { Dataset, type DatasetDeletionReason, type DatasetFormat } from './entities/dataset.entity.js';

const DAY_MS = 86_400_000;
/** S3 allows at most this many parts in one multipart upload. */
const MAX_PARTS = 10_000;

const EXTENSIONS: Record<DatasetFormat, string> = { jsonl: 'jsonl', csv: 'csv', parquet: 'parquet', tar: 'tar', zip: 'zip' };

/** What the jobs module gets for a dataset it may train on. */
export interface TrainableDataset {
  id: string;
  name: string;
  format: DatasetFormat;
  sizeBytes: number;
  sha256: string;
  sampleCount: number | null;
  /** Estimated (~4 characters per token); null when not estimated. */
  tokenCount: number | null;
  deleteAfterTraining: boolean;
}

export interface DatasetView {
  id: string;
  name: string;
  format: DatasetFormat;
  license: string | null;
  sizeBytes: number;
  sha256: string;
  status: Dataset['status'];
  failureCode: string | null;
  uploadKind: Dataset['uploadKind'];
  sampleCount: number | null;
  tokenCountEstimate: number | null;
  tokenCountNote: string | null;
  encryption: string;
  ttlDays: number;
  deleteAfterTraining: boolean;
  createdAt: string;
  completedAt: string | null;
  expiresAt: string;
  deletedAt: string | null;
  deletionReason: DatasetDeletionReason | null;
  moderation: { outcome: ModerationDecision['outcome']; reasons: ModerationDecision['reasons']; checkedAt: string; reviewed: boolean } | null;
}

export type UploadInstructions =
  | { kind: 'single'; method: 'PUT' | 'GET'; url: string; headers: Record<string, string>; expiresAt: string }
  | {
      kind: 'multipart';
      partSizeBytes: number;
      partCount: number;
      parts: { partNumber: number; sizeBytes: number; method: 'PUT' | 'GET'; url: string }[];
      headers: Record<string, string>;
      expiresAt: string;
      instructions: string;
    };

/** The answer to a create: the dataset and where to upload it (null when a replayed create finds it no longer uploading). */
export interface CreatedDataset {
  created: boolean;
  dataset: DatasetView;
  upload: UploadInstructions | null;
}

function toNumber(value: bigint | null): number | null {
  return value === null ? null : Number(value);
}

function describe(row: Dataset, moderation: ModerationDecision | null): DatasetView {
  const tokens = toNumber(row.tokenCountEstimate);
  return {
    id: row.id,
    name: row.name,
    format: row.format,
    license: row.declaredLicense,
    sizeBytes: Number(row.sizeBytes),
    sha256: row.sha256,
    status: row.status,
    failureCode: row.failureCode,
    uploadKind: row.uploadKind,
    sampleCount: toNumber(row.sampleCount),
    tokenCountEstimate: tokens,
    tokenCountNote: tokens === null ? null : `An estimate: text characters divided by ${CHARS_PER_TOKEN_ESTIMATE}; the model's tokenizer will differ.`,
    encryption: row.encryption,
    ttlDays: row.ttlDays,
    deleteAfterTraining: row.deleteAfterTraining,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt.toISOString(),
    deletedAt: row.deletedAt?.toISOString() ?? null,
    deletionReason: row.deletionReason,
    moderation: moderation ? { outcome: moderation.outcome, reasons: moderation.reasons, checkedAt: moderation.createdAt.toISOString(), reviewed: moderation.reviewed } : null,
  };
}

/** A file name for downloads: the dataset's name, made safe, with the format's extension. */
function downloadName(row: Dataset): string {
  const base = row.name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 100) || 'dataset';
  const extension = EXTENSIONS[row.format];
  return base.toLowerCase().endsWith(`.${extension}`) ? base : `${base}.${extension}`;
}

/**
 * Datasets: created with a presigned upload (one PUT, or parts above the multipart threshold),
 * completed once the stored bytes match the declared size and SHA-256, moderated, downloadable by
 * the owning org, deleted on request, at their TTL, or after training when the user chose so.
 *
 * For the jobs module: `requireTrainable`, `presignedGetUrl`, `deleteAfterTraining` (the
 * `DatasetPort` of `modules/jobs/jobs.ports.ts`), plus `deleteAllForOrg` for account deletion.
 */
@Injectable()
export class DatasetsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly moderation: ModerationService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // ---- HTTP-facing ---------------------------------------------------------------------------

  async create(principal: Principal, dto: CreateDatasetDto, meta: RequestMeta, idempotencyKey?: string): Promise<CreatedDataset> {
    if (idempotencyKey) {
      const existing = await this.dataSource.manager.findOneBy(Dataset, { orgId: principal.orgId, idempotencyKey });
      if (existing) return this.replayCreate(existing, dto);
    }
    if (dto.sizeBytes > this.config.DATASET_MAX_SIZE_BYTES) {
      throw unprocessable('dataset_too_large', `The dataset is ${dto.sizeBytes} bytes; the largest accepted is ${this.config.DATASET_MAX_SIZE_BYTES} bytes.`, {
        sizeBytes: dto.sizeBytes,
        maxSizeBytes: this.config.DATASET_MAX_SIZE_BYTES,
      });
    }
    const now = this.clock.now();
    const id = this.newId();
    const ttlDays = dto.ttlDays ?? DEFAULT_TTL_DAYS;
    const storageKey = `datasets/${principal.orgId}/${id}/data.${EXTENSIONS[dto.format]}`;
    const multipart = dto.sizeBytes >= this.config.DATASET_MULTIPART_THRESHOLD_BYTES;
    const partSizeBytes = multipart ? Math.max(this.config.DATASET_PART_SIZE_BYTES, Math.ceil(dto.sizeBytes / MAX_PARTS)) : null;
    const partCount = partSizeBytes ? Math.ceil(dto.sizeBytes / partSizeBytes) : null;
    const uploadId = multipart ? await this.withStorage(() => this.storage.createMultipartUpload(storageKey)) : null;
    const row: Dataset = {
      id,
      orgId: principal.orgId,
      createdBy: principal.userId,
      name: dto.name.trim(),
      format: dto.format,
      declaredLicense: dto.license?.trim() || null,
      sizeBytes: BigInt(dto.sizeBytes),
      sha256: dto.sha256.toLowerCase(),
      storageKey,
      status: 'uploading',
      uploadKind: multipart ? 'multipart' : 'single',
      multipartUploadId: uploadId,
      partSizeBytes: partSizeBytes === null ? null : BigInt(partSizeBytes),
      partCount,
      sampleCount: null,
      tokenCountEstimate: null,
      ttlDays,
      deleteAfterTraining: dto.deleteAfterTraining ?? false,
      encryption: SERVER_SIDE_ENCRYPTION,
      verifiedEtag: null,
      idempotencyKey: idempotencyKey ?? null,
      failureCode: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlDays * DAY_MS),
      completedAt: null,
      deletedAt: null,
      deletionReason: null,
    };
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(Dataset, row as never);
        await this.audit.record(
          { actor: principal, action: 'dataset.created', target: { type: 'dataset', id }, meta, details: { format: row.format, sizeBytes: dto.sizeBytes, uploadKind: row.uploadKind, ttlDays } },
          manager,
        );
      });
    } catch (error) {
      if (uploadId) await this.storage.abortMultipartUpload(storageKey, uploadId).catch(() => undefined);
      // Two requests with the same Idempotency-Key at once: the loser returns the winner's dataset.
      if (idempotencyKey && (error as { driverError?: { code?: string } }).driverError?.code === '23505') return this.create(principal, dto, meta, idempotencyKey);
      throw error;
    }
    return { created: true, dataset: describe(row, null), upload: await this.presignUpload(row) };
  }

  /** A retry with a used Idempotency-Key: the same request gets its dataset back (with fresh URLs while uploading); another is a conflict. */
  private async replayCreate(existing: Dataset, dto: CreateDatasetDto): Promise<CreatedDataset> {
    const same =
      existing.name === dto.name.trim() &&
      existing.format === dto.format &&
      existing.sizeBytes === BigInt(dto.sizeBytes) &&
      existing.sha256 === dto.sha256.toLowerCase() &&
      existing.declaredLicense === (dto.license?.trim() || null) &&
      existing.ttlDays === (dto.ttlDays ?? DEFAULT_TTL_DAYS) &&
      existing.deleteAfterTraining === (dto.deleteAfterTraining ?? false);
    if (!same) throw conflict('idempotency_mismatch', 'This Idempotency-Key was already used for a different dataset. Use a new key for a new dataset.');
    const upload = existing.status === 'uploading' ? await this.presignUpload(existing) : null;
    return { created: false, dataset: describe(existing, await this.moderation.latestFor('dataset', existing.id)), upload };
  }

  /** Presigned URLs for uploading a dataset's file: one PUT, or one per part. */
  private async presignUpload(row: Dataset): Promise<UploadInstructions> {
    const now = this.clock.now();
    const ttlSeconds = this.config.DATASET_UPLOAD_URL_TTL_SECONDS;
    const sizeBytes = Number(row.sizeBytes);
    return this.withStorage(async () => {
      const partSizeBytes = row.partSizeBytes === null ? null : Number(row.partSizeBytes);
      if (!row.multipartUploadId || !partSizeBytes || !row.partCount) {
        const put = await this.storage.presignPut(row.storageKey, ttlSeconds, now);
        return { kind: 'single' as const, method: put.method, url: put.url, headers: put.headers, expiresAt: put.expiresAt.toISOString() };
      }
      const partCount = row.partCount;
      const parts = [];
      for (let partNumber = 1; partNumber <= partCount; partNumber += 1) {
        const part = await this.storage.presignUploadPart(row.storageKey, row.multipartUploadId, partNumber, ttlSeconds, now);
        parts.push({ partNumber, sizeBytes: partNumber < partCount ? partSizeBytes : sizeBytes - partSizeBytes * (partCount - 1), method: part.method, url: part.url });
      }
      return {
        kind: 'multipart' as const,
        partSizeBytes,
        partCount,
        parts,
        headers: {},
        expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
        instructions: 'PUT each byte range to its URL, keep each response\'s ETag header, then POST /v1/datasets/{id}/complete with { parts: [{ partNumber, etag }] }.',
      };
    });
  }

  async complete(principal: Principal, id: string, dto: CompleteDatasetDto, meta: RequestMeta): Promise<DatasetView> {
    const row = await this.findOwned(principal.orgId, id);
    if (row.status === 'ready') return describe(row, await this.moderation.latestFor('dataset', row.id));
    if (row.status === 'deleted') throw conflict('dataset_deleted', 'The dataset was deleted; create a new one to upload again.');
    if (row.status === 'failed') {
      throw conflict('dataset_failed', `The upload failed verification (${row.failureCode ?? 'unknown'}) and was discarded; create a new dataset to upload again.`);
    }

    if (row.uploadKind === 'multipart') await this.completeMultipart(row, dto);
    else if (dto.parts) throw badRequest('parts_not_expected', 'This dataset was uploaded with a single PUT; send no parts.');

    const head = await this.withStorage(() => this.storage.head(row.storageKey));
    if (!head) throw unprocessable('upload_missing', 'No file has been uploaded for this dataset yet: PUT it to the upload URL, then complete.');
    const expectedBytes = Number(row.sizeBytes);
    if (head.sizeBytes !== expectedBytes) {
      await this.rejectUpload(row, principal, meta, 'size_mismatch');
      throw unprocessable('size_mismatch', `The uploaded file is ${head.sizeBytes} bytes, but ${expectedBytes} were declared; it was discarded.`, {
        expectedBytes,
        actualBytes: head.sizeBytes,
      });
    }

    const { sha256, bytes, stats } = await this.readAndInspect(row);
    const after = await this.withStorage(() => this.storage.head(row.storageKey));
    if (!after || after.etag !== head.etag) {
      throw conflict('upload_changed', 'The file was replaced while it was being verified; complete the upload again once it has finished.');
    }
    if (bytes !== expectedBytes) {
      await this.rejectUpload(row, principal, meta, 'size_mismatch');
      throw unprocessable('size_mismatch', `The uploaded file is ${bytes} bytes, but ${expectedBytes} were declared; it was discarded.`, { expectedBytes, actualBytes: bytes });
    }
    if (sha256 !== row.sha256) {
      await this.rejectUpload(row, principal, meta, 'checksum_mismatch');
      throw unprocessable('checksum_mismatch', 'The SHA-256 of the uploaded file differs from the one declared; it was discarded.', { expectedSha256: row.sha256, actualSha256: sha256 });
    }

    const completedAt = this.clock.now();
    const decision = await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        Dataset,
        { id: row.id, status: 'uploading' },
        {
          status: 'ready',
          completedAt,
          verifiedEtag: head.etag,
          multipartUploadId: null,
          sampleCount: stats.sampleCount === null ? null : BigInt(stats.sampleCount),
          tokenCountEstimate: stats.tokenCountEstimate === null ? null : BigInt(stats.tokenCountEstimate),
        },
      );
      if (!result.affected) return null; // completed (or deleted) concurrently
      const moderation = await this.moderation.moderateDataset(
        { datasetId: row.id, orgId: row.orgId, name: row.name, format: row.format, declaredLicense: row.declaredLicense, fileNames: stats.fileNames },
        manager,
      );
      await this.audit.record(
        {
          actor: principal,
          action: 'dataset.completed',
          target: { type: 'dataset', id: row.id },
          meta,
          details: { sizeBytes: expectedBytes, sampleCount: stats.sampleCount, moderation: moderation.outcome, reasons: moderation.reasons.map((r) => r.code) },
        },
        manager,
      );
      return moderation;
    });
    const current = await this.findOwned(principal.orgId, id);
    return describe(current, decision ?? (await this.moderation.latestFor('dataset', row.id)));
  }

  async get(principal: Principal, id: string): Promise<DatasetView> {
    const row = await this.findOwned(principal.orgId, id);
    return describe(row, await this.moderation.latestFor('dataset', row.id));
  }

  /** The org's datasets, newest first, deleted ones left out; `nextCursor` pages on. */
  async list(principal: Principal, query: ListDatasetsQueryDto): Promise<{ items: DatasetView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 50;
    const rows = await this.dataSource.manager.find(Dataset, {
      where: { orgId: principal.orgId, status: Not('deleted' as const), ...(query.cursor ? { id: LessThan(query.cursor) } : {}) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    const moderation = await this.moderation.latestForMany('dataset', page.map((row) => row.id));
    return { items: page.map((row) => describe(row, moderation.get(row.id) ?? null)), nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
  }

  /** A presigned GET for the owning org; only a verified (ready) dataset can be downloaded. */
  async download(principal: Principal, id: string) {
    const row = await this.findOwned(principal.orgId, id);
    this.assertReady(row);
    await this.assertUnchanged(row);
    const get = await this.withStorage(() => this.storage.presignGet(row.storageKey, this.config.DATASET_DOWNLOAD_URL_TTL_SECONDS, this.clock.now(), downloadName(row)));
    return { method: get.method, url: get.url, expiresAt: get.expiresAt.toISOString(), fileName: downloadName(row), sizeBytes: Number(row.sizeBytes), sha256: row.sha256 };
  }

  /** Deletes the stored object(s) and marks the dataset deleted; deleting again is a no-op. */
  async delete(principal: Principal, id: string, meta: RequestMeta): Promise<DatasetView> {
    const row = await this.findOwned(principal.orgId, id);
    if (row.status !== 'deleted') await this.remove(row, 'user', principal, meta);
    const current = await this.findOwned(principal.orgId, id);
    return describe(current, await this.moderation.latestFor('dataset', row.id));
  }

  // ---- For the jobs module and crons -----------------------------------------------------------

  /**
   * The org's dataset if a job may train on it: owned (else 404 `not_found`), verified (else 409
   * `dataset_not_ready`) and passed by moderation (else 422 `dataset_rejected` with the reasons,
   * or `dataset_not_moderated`).
   */
  async requireTrainable(orgId: string, datasetId: string): Promise<TrainableDataset> {
    const row = await this.findOwned(orgId, datasetId);
    this.assertReady(row);
    await this.assertUnchanged(row);
    const moderation = await this.moderation.latestFor('dataset', row.id);
    if (!moderation) throw unprocessable('dataset_not_moderated', 'The dataset has not been checked by moderation yet.');
    if (moderation.outcome === 'rejected') {
      throw unprocessable('dataset_rejected', `The dataset failed moderation and cannot be trained on: ${moderation.reasons.map((r) => r.message).join(' ')}`, { reasons: moderation.reasons });
    }
    return toTrainable(row);
  }

  /**
   * For the scheduler's rounds: many datasets at once, each trainable (owned by the org, ready,
   * passed by moderation) or not (absent from the map). Two queries for the whole round and no
   * storage round trip: the object was verified at completion and checked again at submission, and
   * the node verifies size and SHA-256 of what it downloads before training on it.
   */
  async trainableMany(refs: readonly { orgId: string; datasetId: string }[]): Promise<Map<string, TrainableDataset>> {
    const ids = [...new Set(refs.map((ref) => ref.datasetId))];
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.manager.find(Dataset, { where: { id: In(ids), status: 'ready' as const } });
    const moderation = await this.moderation.latestForMany('dataset', rows.map((row) => row.id));
    const owners = new Set(refs.map((ref) => `${ref.orgId}:${ref.datasetId}`));
    const trainable = new Map<string, TrainableDataset>();
    for (const row of rows) {
      if (!owners.has(`${row.orgId}:${row.id}`) || moderation.get(row.id)?.outcome !== 'passed') continue;
      trainable.set(row.id, toTrainable(row));
    }
    return trainable;
  }

  /** A presigned GET of a ready dataset for a training node (no org check: the caller has done it). */
  async presignedGetUrl(datasetId: string, ttlSeconds: number = this.config.DATASET_DOWNLOAD_URL_TTL_SECONDS): Promise<string> {
    const row = await this.dataSource.manager.findOneBy(Dataset, { id: datasetId });
    if (!row) throw notFound('Dataset');
    this.assertReady(row);
    await this.assertUnchanged(row);
    const get = await this.withStorage(() => this.storage.presignGet(row.storageKey, ttlSeconds, this.clock.now()));
    return get.url;
  }

  /** After a job that used it ends: deletes the dataset if its owner asked for that; otherwise nothing. Returns whether it deleted. */
  async deleteAfterTraining(datasetId: string): Promise<boolean> {
    const row = await this.dataSource.manager.findOneBy(Dataset, { id: datasetId });
    if (!row || row.status === 'deleted' || !row.deleteAfterTraining) return false;
    await this.remove(row, 'after_training', 'system');
    return true;
  }

  /** Every dataset of an organization (account deletion). Returns how many were deleted. */
  async deleteAllForOrg(orgId: string): Promise<number> {
    const rows = await this.dataSource.manager.find(Dataset, { where: { orgId, status: Not('deleted' as const) } });
    for (const row of rows) await this.remove(row, 'account_deleted', 'system');
    return rows.length;
  }

  /**
   * Deletes (storage first, then the row is marked) datasets whose TTL has passed by `now`, in
   * batches; one that fails is logged and retried on the next run.
   */
  async deleteExpired(now: Date = this.clock.now(), options: { batchSize?: number; maxBatches?: number } = {}): Promise<{ deleted: number; failed: number }> {
    const batchSize = options.batchSize ?? 100;
    const maxBatches = options.maxBatches ?? 20;
    let deleted = 0;
    let failed = 0;
    const failedIds = new Set<string>();
    for (let batch = 0; batch < maxBatches; batch += 1) {
      const rows = await this.dataSource.manager
        .createQueryBuilder(Dataset, 'd')
        .where("d.status <> 'deleted' AND d.expires_at <= :now", { now })
        .andWhere(failedIds.size > 0 ? 'd.id NOT IN (:...failedIds)' : 'TRUE', { failedIds: [...failedIds] })
        .orderBy('d.expires_at', 'ASC')
        .limit(batchSize)
        .getMany();
      for (const row of rows) {
        try {
          await this.remove(row, 'expired', 'system');
          deleted += 1;
        } catch (error) {
          failed += 1;
          failedIds.add(row.id);
          this.logger.warn({ err: error, datasetId: row.id }, 'expired dataset could not be deleted; will retry');
        }
      }
      if (rows.length < batchSize) break;
    }
    return { deleted, failed };
  }

  /**
   * Uploads never completed a day after their upload URLs expired: parts aborted, any object
   * deleted, the dataset marked failed (`upload_abandoned`). Returns how many.
   */
  async failAbandonedUploads(now: Date = this.clock.now(), limit = 500): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.DATASET_UPLOAD_URL_TTL_SECONDS * 1000 - DAY_MS);
    const rows = await this.dataSource.manager.find(Dataset, { where: { status: 'uploading', createdAt: LessThan(cutoff) }, order: { createdAt: 'ASC' }, take: limit });
    let failed = 0;
    for (const row of rows) {
      try {
        await this.withStorage(async () => {
          if (row.multipartUploadId) await this.storage.abortMultipartUpload(row.storageKey, row.multipartUploadId);
          await this.storage.delete(row.storageKey);
        });
        await this.dataSource.transaction(async (manager) => {
          const result = await manager.update(Dataset, { id: row.id, status: 'uploading' }, { status: 'failed', failureCode: 'upload_abandoned', multipartUploadId: null });
          if (!result.affected) return;
          failed += 1;
          await this.audit.record({ actor: 'system', orgId: row.orgId, action: 'dataset.upload_abandoned', target: { type: 'dataset', id: row.id } }, manager);
        });
      } catch (error) {
        this.logger.warn({ err: error, datasetId: row.id }, 'abandoned upload could not be cleaned up; will retry');
      }
    }
    return failed;
  }

  // ---- internals ---------------------------------------------------------------------------------

  /** Another org's dataset is indistinguishable from a missing one. */
  private async findOwned(orgId: string, id: string): Promise<Dataset> {
    const row = await this.dataSource.manager.findOneBy(Dataset, { id, orgId });
    if (!row) throw notFound('Dataset');
    return row;
  }

  private assertReady(row: Dataset): void {
    if (row.status === 'ready') return;
    const why: Record<Dataset['status'], string> = {
      uploading: 'its upload has not been completed',
      failed: `its upload failed verification (${row.failureCode ?? 'unknown'})`,
      deleted: 'it was deleted',
      ready: '',
    };
    throw conflict('dataset_not_ready', `The dataset is not ready: ${why[row.status]}.`, { status: row.status });
  }

  /**
   * A single-PUT upload URL stays valid for a while after completion: if the object was replaced
   * since it was verified (its ETag differs), it is discarded and the dataset fails, so unverified,
   * unmoderated bytes are never served.
   */
  private async assertUnchanged(row: Dataset): Promise<void> {
    if (!row.verifiedEtag) return;
    const head = await this.withStorage(() => this.storage.head(row.storageKey));
    if (head && head.etag === row.verifiedEtag) return;
    await this.withStorage(() => this.storage.delete(row.storageKey));
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(Dataset, { id: row.id, status: 'ready' }, { status: 'failed', failureCode: 'modified_after_verification' });
      if (!result.affected) return;
      await this.audit.record(
        { actor: 'system', orgId: row.orgId, action: 'dataset.verification_failed', target: { type: 'dataset', id: row.id }, details: { failureCode: 'modified_after_verification' } },
        manager,
      );
    });
    throw conflict('dataset_not_ready', 'The dataset is not ready: its file was replaced after it was verified, so it was discarded; upload it again as a new dataset.', {
      status: 'failed',
      failureCode: 'modified_after_verification',
    });
  }

  private async completeMultipart(row: Dataset, dto: CompleteDatasetDto): Promise<void> {
    const partCount = row.partCount ?? 0;
    if (!dto.parts) throw badRequest('parts_required', `This dataset was uploaded in ${partCount} parts; send every part's number and ETag.`);
    const numbers = dto.parts.map((part) => part.partNumber).sort((a, b) => a - b);
    const complete = numbers.length === partCount && numbers.every((n, i) => n === i + 1);
    if (!complete) {
      throw unprocessable('parts_incomplete', `Send each of the parts 1 to ${partCount} exactly once.`, { expectedParts: partCount, receivedParts: numbers });
    }
    if (!row.multipartUploadId) return;
    try {
      await this.withStorage(() => this.storage.completeMultipartUpload(row.storageKey, row.multipartUploadId as string, dto.parts ?? []));
    } catch (error) {
      if (!(error instanceof MultipartRejectedError)) throw error;
      // A retry after the store already assembled the object (then the upload id is gone): verify what is there.
      if (error.s3Code === 'NoSuchUpload' && (await this.withStorage(() => this.storage.head(row.storageKey)))) return;
      throw unprocessable('multipart_rejected', `The storage refused to assemble the parts (${error.s3Code}): check that every part was uploaded and its ETag is right.`, {
        storageCode: error.s3Code,
      });
    }
  }

  /** Streams the object once: SHA-256, byte count and the format's statistics, never the whole file in memory. */
  private async readAndInspect(row: Dataset): Promise<{ sha256: string; bytes: number; stats: DatasetStats }> {
    return this.withStorage(async () => {
      const hash = createHash('sha256');
      const inspector = streamingInspectorFor(row.format);
      const limit = Number(row.sizeBytes);
      let bytes = 0;
      const stream = await this.storage.getStream(row.storageKey);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > limit) break; // more than declared: the size check fails, no need to read on
          hash.update(chunk);
          inspector.update(chunk);
        }
      } catch (error) {
        throw new StorageUnavailableError('read', error);
      } finally {
        stream.destroy();
      }
      let stats = inspector.finish();
      if (bytes === limit && (row.format === 'zip' || row.format === 'parquet')) {
        stats = await readTailStats(row.format, limit, (start, end) => this.storage.getStream(row.storageKey, { start, end })).catch((error: unknown) => {
          this.logger.info({ err: error, datasetId: row.id }, 'dataset statistics not readable');
          return stats;
        });
      }
      return { sha256: hash.digest('hex'), bytes, stats };
    });
  }

  /** A failed verification: the object is deleted and the dataset marked failed (it never becomes ready). */
  private async rejectUpload(row: Dataset, principal: Principal, meta: RequestMeta, failureCode: 'size_mismatch' | 'checksum_mismatch'): Promise<void> {
    await this.withStorage(() => this.storage.delete(row.storageKey));
    await this.dataSource.transaction(async (manager) => {
      await manager.update(Dataset, { id: row.id, status: 'uploading' }, { status: 'failed', failureCode, multipartUploadId: null });
      await this.audit.record({ actor: principal, action: 'dataset.verification_failed', target: { type: 'dataset', id: row.id }, meta, details: { failureCode } }, manager);
    });
  }

  /** Storage first (so a failure leaves the row to retry), then the row is marked deleted with an audit entry. */
  private async remove(row: Dataset, reason: DatasetDeletionReason, actor: AuditActor, meta?: RequestMeta): Promise<void> {
    await this.withStorage(async () => {
      if (row.multipartUploadId) await this.storage.abortMultipartUpload(row.storageKey, row.multipartUploadId);
      await this.storage.delete(row.storageKey);
    });
    await this.dataSource.transaction(async (manager: EntityManager) => {
      const result = await manager.update(Dataset, { id: row.id, status: Not('deleted' as const) }, { status: 'deleted', deletedAt: this.clock.now(), deletionReason: reason, multipartUploadId: null });
      if (!result.affected) return;
      await this.audit.record({ actor, orgId: row.orgId, action: 'dataset.deleted', target: { type: 'dataset', id: row.id }, meta, details: { reason } }, manager);
    });
  }

  private async withStorage<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof StorageUnavailableError) {
        this.logger.error({ err: error }, 'object storage call failed');
        throw new AppError(503, 'storage_unavailable', 'File storage is unavailable right now; try again in a minute.');
      }
      throw error;
    }
  }
}

function toTrainable(row: Dataset): TrainableDataset {
  return {
    id: row.id,
    name: row.name,
    format: row.format,
    sizeBytes: Number(row.sizeBytes),
    sha256: row.sha256,
    sampleCount: toNumber(row.sampleCount),
    tokenCount: toNumber(row.tokenCountEstimate),
    deleteAfterTraining: row.deleteAfterTraining,
  };
}
