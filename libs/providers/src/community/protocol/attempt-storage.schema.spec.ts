import { describe, expect, it } from 'vitest';
import { assignmentSchema } from './assignment.schema.js';
import {
  attemptStoragePaths,
  CHECKPOINT_SLOTS_PER_ATTEMPT,
  parseUploadSlot,
  presignedDownloadSchema,
  presignedUploadSchema,
  resumeCheckpointDownloadSchema,
  uploadSlotName,
} from './attempt-storage.schema.js';
import { parseAssignment } from './parse.js';
import { assignmentFixture, urlFreeAssignmentFixture } from './testing/protocol-fixtures.js';

describe('assignments with and without presigned URLs', () => {
  it('accepts an assignment with no URL at all, keeping sizes, hashes and the resume step', () => {
    const parsed = parseAssignment(urlFreeAssignmentFixture());
    expect(parsed.ok && parsed.value).toMatchObject({ dataset: { sizeBytes: 1024, sha256: 'ab'.repeat(32) }, resumeCheckpoint: { step: 40, sizeBytes: null } });
    expect(parsed.ok && parsed.value.uploads).toBeUndefined();
    expect(parsed.ok && parsed.value.dataset.getUrl).toBeUndefined();
  });

  it('still accepts the full shape, and any subset of the upload URLs', () => {
    expect(parseAssignment(assignmentFixture()).ok).toBe(true);
    const full = assignmentFixture();
    expect(parseAssignment({ ...full, uploads: { checkpoints: [] } }).ok).toBe(true);
    expect(parseAssignment({ ...full, uploads: { artifact: full.uploads!.artifact, expiresAt: '2026-11-22T09:30:00.000Z' } }).ok).toBe(true);
    expect(parseAssignment({ ...full, uploads: {} }).ok).toBe(true);
  });

  it('still refuses what it refused: a URL that is not one, unknown fields, a missing size or resume step', () => {
    const free = urlFreeAssignmentFixture();
    expect(parseAssignment({ ...free, dataset: { ...free.dataset, getUrl: 'not a url' } }).ok).toBe(false);
    expect(parseAssignment({ ...free, dataset: { getUrl: 'http://127.0.0.1:9000/d?X-Amz-Signature=abc' } }).ok).toBe(false);
    expect(parseAssignment({ ...free, resumeCheckpoint: { sizeBytes: null } }).ok).toBe(false);
    expect(parseAssignment({ ...free, resumeCheckpoint: { step: 3, sizeBytes: null, getUrl: 'nope' } }).ok).toBe(false);
    expect(parseAssignment({ ...free, uploads: { datasetUrl: 'http://x' } }).ok).toBe(false);
    expect(parseAssignment({ ...free, uploads: { artifact: { key: 'k' } } }).ok).toBe(false);
    expect(assignmentSchema.safeParse({ ...free, attemptToken: undefined }).success).toBe(false);
  });
});

describe('upload slots', () => {
  it('names artifact, logs and checkpoint-001 … checkpoint-008, and nothing else', () => {
    expect(CHECKPOINT_SLOTS_PER_ATTEMPT).toBe(8);
    expect(parseUploadSlot('artifact')).toEqual({ kind: 'artifact' });
    expect(parseUploadSlot('logs')).toEqual({ kind: 'logs' });
    expect(parseUploadSlot('checkpoint-001')).toEqual({ kind: 'checkpoint', number: 1 });
    expect(parseUploadSlot('checkpoint-008')).toEqual({ kind: 'checkpoint', number: 8 });
    for (const bad of ['checkpoint-000', 'checkpoint-009', 'checkpoint-1', 'checkpoint-0001', 'checkpoint-01a', 'Artifact', 'logs/', '../artifact', 'dataset', '']) {
      expect(parseUploadSlot(bad), bad).toBeNull();
    }
    expect(parseUploadSlot('checkpoint-012', 20)).toEqual({ kind: 'checkpoint', number: 12 });
  });

  it('round-trips every slot through its name and builds the paths the API serves', () => {
    for (let number = 1; number <= CHECKPOINT_SLOTS_PER_ATTEMPT; number += 1) expect(parseUploadSlot(uploadSlotName({ kind: 'checkpoint', number }))).toEqual({ kind: 'checkpoint', number });
    expect(attemptStoragePaths.upload('a1', { kind: 'checkpoint', number: 3 })).toBe('/v1/attempts/a1/uploads/checkpoint-003');
    expect(attemptStoragePaths.dataset('a1')).toBe('/v1/attempts/a1/downloads/dataset');
    expect(attemptStoragePaths.resumeCheckpoint('a/../b')).toBe('/v1/attempts/a%2F..%2Fb/downloads/resume-checkpoint');
  });
});

describe('attempt storage responses', () => {
  const expiresAt = '2026-11-22T07:45:00.000Z';
  it('parses what the API sends and tolerates fields a newer API adds', () => {
    expect(presignedDownloadSchema.parse({ getUrl: 'http://127.0.0.1:9000/d?X-Amz-Signature=a', expiresAt, region: 'x' })).not.toHaveProperty('region');
    expect(resumeCheckpointDownloadSchema.safeParse({ getUrl: 'http://127.0.0.1:9000/c', step: 40, sizeBytes: null, expiresAt }).success).toBe(true);
    expect(presignedUploadSchema.safeParse({ key: 'k', putUrl: 'http://127.0.0.1:9000/k', headers: { 'x-amz-server-side-encryption': 'AES256' }, expiresAt }).success).toBe(true);
  });

  it('refuses a response without a usable URL or expiry', () => {
    expect(presignedDownloadSchema.safeParse({ getUrl: 'not a url', expiresAt }).success).toBe(false);
    expect(presignedDownloadSchema.safeParse({ getUrl: 'http://127.0.0.1:9000/d' }).success).toBe(false);
    expect(presignedUploadSchema.safeParse({ key: 'k', putUrl: 'http://127.0.0.1:9000/k' }).success).toBe(false);
    expect(presignedUploadSchema.safeParse({ key: '', putUrl: 'http://127.0.0.1:9000/k', expiresAt }).success).toBe(false);
    expect(resumeCheckpointDownloadSchema.safeParse({ getUrl: 'http://127.0.0.1:9000/c', sizeBytes: null, expiresAt }).success).toBe(false);
  });
});
