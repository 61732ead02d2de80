import { z } from 'zod';
import { countSchema, instantSchema } from './common.schema.js';
import { presignedPutSchema } from './assignment.schema.js';

/**
 * The HTTP side of an attempt's storage, agent → API, authenticated by the assignment's attempt
 * token (`Authorization: Bearer att_…`) and refused (401 `attempt_token_revoked`) the moment the
 * attempt ends. The agent asks for a short-lived presigned URL right before each transfer, so an
 * assignment need not carry any, and no URL outlives its attempt by more than its short TTL.
 *
 * ```
 * POST /v1/attempts/:id/downloads/dataset            → PresignedDownload
 * POST /v1/attempts/:id/downloads/resume-checkpoint  → ResumeCheckpointDownload (404 no_resume_checkpoint)
 * POST /v1/attempts/:id/uploads/:slot                → PresignedUpload (400 invalid_upload_slot)
 * ```
 *
 * The API decides every object key; the agent reports back the key it uploaded to.
 */

/** Checkpoint upload slots an attempt has when its assignment lists none: `checkpoint-001` … `checkpoint-008`. */
export const CHECKPOINT_SLOTS_PER_ATTEMPT = 8;

/** An upload slot: the output archive, the log archive, or a numbered checkpoint. */
export type UploadSlot = { kind: 'artifact' } | { kind: 'logs' } | { kind: 'checkpoint'; number: number };

/** The slot's name in the URL path: `artifact`, `logs`, `checkpoint-001`. */
export function uploadSlotName(slot: UploadSlot): string {
  return slot.kind === 'checkpoint' ? `checkpoint-${String(slot.number).padStart(3, '0')}` : slot.kind;
}

/** The slot a path segment names, or null: only `artifact`, `logs` and `checkpoint-001` … `checkpoint-NNN` (1-based, three digits) exist. */
export function parseUploadSlot(name: string, checkpointSlots: number = CHECKPOINT_SLOTS_PER_ATTEMPT): UploadSlot | null {
  if (name === 'artifact' || name === 'logs') return { kind: name };
  const match = /^checkpoint-(\d{3})$/.exec(name);
  const number = match ? Number(match[1]) : 0;
  return number >= 1 && number <= checkpointSlots ? { kind: 'checkpoint', number } : null;
}

/** Paths under the API base URL (`https://api.anneal.dev`). */
export const attemptStoragePaths = {
  dataset: (attemptId: string) => `/v1/attempts/${encodeURIComponent(attemptId)}/downloads/dataset`,
  resumeCheckpoint: (attemptId: string) => `/v1/attempts/${encodeURIComponent(attemptId)}/downloads/resume-checkpoint`,
  upload: (attemptId: string, slot: UploadSlot) => `/v1/attempts/${encodeURIComponent(attemptId)}/uploads/${uploadSlotName(slot)}`,
};

// Responses are plain (not strict) objects: an API that adds a field does not break older agents.

/**
 * A presigned GET of the dataset; `expiresAt` is when the URL stops working (a transfer started
 * before it completes). Its size and SHA-256 are the assignment's, which the agent checks.
 */
export const presignedDownloadSchema = z.object({
  getUrl: z.url(),
  expiresAt: instantSchema,
});
export type PresignedDownload = z.infer<typeof presignedDownloadSchema>;

/**
 * The checkpoint an attempt resumes from: the latest one an earlier attempt of the job uploaded.
 * `step` is the step it was taken at (the agent refuses one that differs from the assignment's).
 */
export const resumeCheckpointDownloadSchema = z.object({
  getUrl: z.url(),
  step: countSchema,
  sizeBytes: countSchema.nullable(),
  expiresAt: instantSchema,
});
export type ResumeCheckpointDownload = z.infer<typeof resumeCheckpointDownloadSchema>;

/** A presigned PUT for one slot: the key the API will look for, the URL, the headers it signs. */
export const presignedUploadSchema = z.object({
  ...presignedPutSchema.shape,
  expiresAt: instantSchema,
});
export type PresignedUpload = z.infer<typeof presignedUploadSchema>;
