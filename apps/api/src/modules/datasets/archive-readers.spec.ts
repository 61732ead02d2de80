import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parquetRowCount, readTailStats, type RangeReader } from './archive-readers.js';
import { parquetFile, zipArchive } from './testing/archive-fixtures.js';

function rangeReader(bytes: Buffer, reads: [number, number][] = []): RangeReader {
  return async (start, end) => {
    reads.push([start, end]);
    return Readable.from([bytes.subarray(start, end + 1)]);
  };
}

describe('zip statistics from the central directory', () => {
  it('counts files (not directories) and lists their names, reading only the tail and the directory', async () => {
    const zip = zipArchive([
      { name: 'images/', content: Buffer.alloc(0) },
      { name: 'images/cat.png', content: Buffer.alloc(100_000, 1) },
      { name: 'images/dog.png', content: Buffer.from('woof') },
    ]);
    const reads: [number, number][] = [];
    const stats = await readTailStats('zip', zip.length, rangeReader(zip, reads));
    expect(stats).toEqual({ sampleCount: 2, tokenCountEstimate: null, fileNames: ['images/cat.png', 'images/dog.png'] });
    const bytesRead = reads.reduce((sum, [start, end]) => sum + end - start + 1, 0);
    expect(bytesRead).toBeLessThan(70_000 + 200);
  });

  it('an empty zip has zero samples; bytes that are not a zip give null', async () => {
    const empty = zipArchive([]);
    expect((await readTailStats('zip', empty.length, rangeReader(empty))).sampleCount).toBe(0);
    const junk = Buffer.alloc(5000, 9);
    expect((await readTailStats('zip', junk.length, rangeReader(junk))).sampleCount).toBeNull();
  });
});

describe('parquet row count from the footer', () => {
  it('reads num_rows past the schema list', async () => {
    const file = parquetFile(123_456_789, ['prompt', 'completion']);
    expect((await readTailStats('parquet', file.length, rangeReader(file))).sampleCount).toBe(123_456_789);
  });

  it('null when the magic or the footer is wrong', async () => {
    const notParquet = Buffer.from('definitely not parquet at all');
    expect((await readTailStats('parquet', notParquet.length, rangeReader(notParquet))).sampleCount).toBeNull();
    expect(parquetRowCount(Buffer.from([0x15]))).toBeNull();
  });
});
