import { parseUploadSlot, uploadSlotName, type UploadSlot } from '@anneal/providers';

/** The ids an attempt's object keys are made of. */
export interface AttemptKeyParts {
  orgId: string;
  jobId: string;
  /** The attempt's id. */
  id: string;
}

/** Everything a job stores lives under this prefix (its outputs are purged by it). */
export function jobObjectPrefix(orgId: string, jobId: string): string {
  return `jobs/${orgId}/${jobId}/`;
}

/**
 * Where each upload slot of an attempt writes; the API decides, the agent reports the key back:
 *
 * ```
 * jobs/<org>/<job>/<attempt>/checkpoints/checkpoint-NNN.bin   checkpoint slot NNN (001 …)
 * jobs/<org>/<job>/artifacts/output.tar                       the output archive (one per job)
 * jobs/<org>/<job>/<attempt>/logs.txt                         the attempt's log archive
 * ```
 */
export function attemptObjectKey(attempt: AttemptKeyParts, slot: UploadSlot): string {
  const job = jobObjectPrefix(attempt.orgId, attempt.jobId);
  switch (slot.kind) {
    case 'checkpoint':
      return `${job}${attempt.id}/checkpoints/${uploadSlotName(slot)}.bin`;
    case 'artifact':
      return `${job}artifacts/output.tar`;
    case 'logs':
      return `${job}${attempt.id}/logs.txt`;
  }
}

/** A key a node reports lies in the job's storage and names no parent or empty segment. */
export function isJobObjectKey(orgId: string, jobId: string, key: string): boolean {
  const prefix = jobObjectPrefix(orgId, jobId);
  return key.startsWith(prefix) && key.length > prefix.length && !key.split('/').some((part) => part === '..' || part === '.' || part === '');
}

/** A key a node reports is exactly one of this attempt's checkpoint slots. */
export function isAttemptCheckpointKey(attempt: AttemptKeyParts, key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1).replace(/\.bin$/, '');
  const slot = parseUploadSlot(name);
  return slot?.kind === 'checkpoint' && attemptObjectKey(attempt, slot) === key;
}
