import { describe, expect, it } from 'vitest';
import { errorSentence } from '../../../lib/api-error.js';
import { UploadError, formatBytes, formatOf, sha256Hex } from './upload.js';

describe('dataset upload helpers', () => {
  it('computes the SHA-256 of a file in the browser', async () => {
    expect(await sha256Hex(new Blob(['']))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const text = '{"text":"hi"}\n'.repeat(1000);
    expect(await sha256Hex(new Blob([text]))).toBe(await expectedSha(text));
  });

  it('detects the format from the file name', () => {
    expect(formatOf('chats.JSONL')).toBe('jsonl');
    expect(formatOf('rows.csv')).toBe('csv');
    expect(formatOf('images.tar')).toBe('tar');
    expect(formatOf('notes.txt')).toBeUndefined();
  });

  it('formats sizes and gives upload failures as sentences', () => {
    expect(formatBytes(18)).toBe('18 B');
    expect(formatBytes(312_000)).toBe('312 KB');
    expect(formatBytes(1_400_000)).toBe('1.4 MB');
    expect(errorSentence(new UploadError('The upload was canceled.'))).toBe('The upload was canceled.');
  });
});

/** The same digest by Node's crypto, to check the browser path against an independent one. */
async function expectedSha(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}
