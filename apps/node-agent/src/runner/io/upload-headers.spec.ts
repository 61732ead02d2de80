import { describe, expect, it } from 'vitest';
import { buildAssignment } from '../../testing/agent-fixtures.js';
import { trainerImageFor } from '../container/container.runner.js';
import { isTransientUploadFailure, TransferError, uploadHeaders } from './presigned-transfer.js';

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

describe('isTransientUploadFailure', () => {
  it('retries network failures, 5xx, 408 and 429, never refusals or download errors', () => {
    expect(isTransientUploadFailure(new TransferError('upload_failed', 'reset'))).toBe(true);
    expect(isTransientUploadFailure(new TransferError('upload_failed', 'x', 503))).toBe(true);
    expect(isTransientUploadFailure(new TransferError('upload_failed', 'x', 429))).toBe(true);
    expect(isTransientUploadFailure(new TransferError('upload_failed', 'x', 403))).toBe(false);
    expect(isTransientUploadFailure(new TransferError('upload_failed', 'x', 404))).toBe(false);
    expect(isTransientUploadFailure(new TransferError('download_failed', 'x'))).toBe(false);
    expect(isTransientUploadFailure(new Error('x'))).toBe(false);
  });
});
