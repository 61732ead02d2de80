import { describe, expect, it } from 'vitest';
import { buildAssignment } from '../../testing/agent-fixtures.js';
import { trainerImageFor } from '../container/container.runner.js';
import { isRefusedUrl, isTransientTransferFailure, TransferError, uploadHeaders } from './presigned-transfer.js';

describe('uploadHeaders', () => {
  it('sends the slot\'s signed headers exactly, with an exact Content-Length that nothing overrides', () => {
    expect(uploadHeaders(42, undefined)).toEqual({ 'content-type': 'application/octet-stream', 'content-length': '42' });
    expect(uploadHeaders(42, 'application/x-tar', { 'x-amz-server-side-encryption': 'AES256', 'Content-Type': 'application/zip', 'Content-Length': '1' })).toEqual({
      'content-type': 'application/zip',
      'x-amz-server-side-encryption': 'AES256',
      'content-length': '42',
    });
  });
});

describe('trainerImageFor', () => {
  const assignment = buildAssignment('n1', 'a1');
  it('prefers the assignment image, then the recipe image hyperparameter, then the agent default', () => {
    expect(trainerImageFor({ ...assignment, attempt: { ...assignment.attempt, trainerImage: 'ghcr.io/a/t:1' } }, 'default:1')).toBe('ghcr.io/a/t:1');
    const withRecipeImage = { ...assignment, attempt: { ...assignment.attempt, recipe: { ...assignment.attempt.recipe, hyperparameters: { image: 'ghcr.io/b/t:2' } } } };
    expect(trainerImageFor(withRecipeImage, 'default:1')).toBe('ghcr.io/b/t:2');
    expect(trainerImageFor(assignment, 'default:1')).toBe('default:1');
    expect(trainerImageFor(assignment, null)).toBeNull();
    const hostile = { ...assignment, attempt: { ...assignment.attempt, recipe: { ...assignment.attempt.recipe, hyperparameters: { image: '--privileged' } } } };
    expect(trainerImageFor(hostile, 'default:1')).toBe('default:1');
  });
});

describe('isTransientTransferFailure and isRefusedUrl', () => {
  it('retries network failures, broken-off downloads, 5xx, 408 and 429, never refusals, missing objects or wrong bytes', () => {
    expect(isTransientTransferFailure(new TransferError('upload_failed', 'reset'))).toBe(true);
    expect(isTransientTransferFailure(new TransferError('upload_failed', 'x', 503))).toBe(true);
    expect(isTransientTransferFailure(new TransferError('upload_failed', 'x', 429))).toBe(true);
    expect(isTransientTransferFailure(new TransferError('download_failed', 'broke off'))).toBe(true);
    expect(isTransientTransferFailure(new TransferError('download_failed', 'x', 500))).toBe(true);
    expect(isTransientTransferFailure(new TransferError('download_failed', 'x', 408))).toBe(true);
    expect(isTransientTransferFailure(new TransferError('upload_failed', 'x', 403))).toBe(false);
    expect(isTransientTransferFailure(new TransferError('upload_failed', 'x', 404))).toBe(false);
    expect(isTransientTransferFailure(new TransferError('download_failed', 'x', 404))).toBe(false);
    expect(isTransientTransferFailure(new TransferError('size_mismatch', 'x'))).toBe(false);
    expect(isTransientTransferFailure(new TransferError('checksum_mismatch', 'x'))).toBe(false);
    expect(isTransientTransferFailure(new TransferError('resume_step_mismatch', 'x'))).toBe(false);
    expect(isTransientTransferFailure(new Error('x'))).toBe(false);
  });

  it('calls a 401/403 from the store a refused URL (expired or a bad signature): a fresh one may work', () => {
    expect(isRefusedUrl(new TransferError('download_failed', 'x', 403))).toBe(true);
    expect(isRefusedUrl(new TransferError('upload_failed', 'x', 403))).toBe(true);
    expect(isRefusedUrl(new TransferError('upload_failed', 'x', 401))).toBe(true);
    expect(isRefusedUrl(new TransferError('upload_failed', 'x', 404))).toBe(false);
    expect(isRefusedUrl(new TransferError('upload_failed', 'reset'))).toBe(false);
    expect(isRefusedUrl(new Error('403'))).toBe(false);
  });
});
