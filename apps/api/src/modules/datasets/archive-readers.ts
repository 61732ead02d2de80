import type { Readable } from 'node:stream';
import { MAX_FILE_NAMES, type DatasetStats } from './dataset-inspector.js';

/** Reads bytes [start, end] (inclusive) of the object. */
export type RangeReader = (start: number, end: number) => Promise<Readable>;

/** Central directories and parquet footers larger than this are not read ("not cheaply readable"). */
const MAX_METADATA_BYTES = 32 * 1024 * 1024;
const EOCD_MAX_SEARCH = 22 + 65_535 + 20;

async function readBytes(read: RangeReader, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await read(start, end)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const NOTHING: DatasetStats = { sampleCount: null, tokenCountEstimate: null, fileNames: [] };

/** Sample counts that need the end of the file: zip (central directory) and parquet (footer). */
export async function readTailStats(format: 'zip' | 'parquet', sizeBytes: number, read: RangeReader): Promise<DatasetStats> {
  return format === 'zip' ? readZipStats(sizeBytes, read) : readParquetStats(sizeBytes, read);
}

// ---- zip ----------------------------------------------------------------------------------------

export interface ZipDirectoryLocation {
  entries: number;
  offset: number;
  size: number;
}

/** Finds the end-of-central-directory record in the file's tail (zip64 through its locator). */
export function locateZipDirectory(tail: Buffer): ZipDirectoryLocation | { zip64LocatorOffset: number } | null {
  for (let i = tail.length - 22; i >= 0; i -= 1) {
    if (tail.readUInt32LE(i) !== 0x06054b50) continue;
    const entries = tail.readUInt16LE(i + 10);
    const size = tail.readUInt32LE(i + 12);
    const offset = tail.readUInt32LE(i + 16);
    if (entries === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
      if (i >= 20 && tail.readUInt32LE(i - 20) === 0x07064b50) return { zip64LocatorOffset: Number(tail.readBigUInt64LE(i - 20 + 8)) };
      return null;
    }
    return { entries, size, offset };
  }
  return null;
}

/** Names of the entries in a central directory (directories, ending in "/", left out). */
export function parseZipDirectory(directory: Buffer): { files: number; names: string[] } | null {
  let offset = 0;
  let files = 0;
  const names: string[] = [];
  while (offset + 46 <= directory.length) {
    if (directory.readUInt32LE(offset) !== 0x02014b50) return null;
    const nameLength = directory.readUInt16LE(offset + 28);
    const extraLength = directory.readUInt16LE(offset + 30);
    const commentLength = directory.readUInt16LE(offset + 32);
    const name = directory.subarray(offset + 46, offset + 46 + nameLength).toString('utf8');
    if (!name.endsWith('/')) {
      files += 1;
      if (names.length < MAX_FILE_NAMES) names.push(name);
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return { files, names };
}

async function readZipStats(sizeBytes: number, read: RangeReader): Promise<DatasetStats> {
  const tailStart = Math.max(0, sizeBytes - EOCD_MAX_SEARCH);
  const tail = await readBytes(read, tailStart, sizeBytes - 1);
  let location = locateZipDirectory(tail);
  if (location && 'zip64LocatorOffset' in location) {
    const record = await readBytes(read, location.zip64LocatorOffset, Math.min(sizeBytes - 1, location.zip64LocatorOffset + 55));
    if (record.length < 56 || record.readUInt32LE(0) !== 0x06064b50) return NOTHING;
    location = { entries: Number(record.readBigUInt64LE(32)), size: Number(record.readBigUInt64LE(40)), offset: Number(record.readBigUInt64LE(48)) };
  }
  if (!location || location.offset + location.size > sizeBytes) return NOTHING;
  if (location.size === 0) return { sampleCount: 0, tokenCountEstimate: null, fileNames: [] };
  if (location.size > MAX_METADATA_BYTES) return NOTHING;
  const parsed = parseZipDirectory(await readBytes(read, location.offset, location.offset + location.size - 1));
  return parsed ? { sampleCount: parsed.files, tokenCountEstimate: null, fileNames: parsed.names } : NOTHING;
}

// ---- parquet ------------------------------------------------------------------------------------

/** Minimal Thrift compact-protocol reader: enough to find FileMetaData.num_rows (field 3) and skip the rest. */
class CompactReader {
  offset = 0;
  constructor(private readonly buffer: Buffer) {}

  byte(): number {
    if (this.offset >= this.buffer.length) throw new Error('parquet footer truncated');
    return this.buffer[this.offset++] as number;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  }

  zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  skip(type: number, depth = 0): void {
    if (depth > 64) throw new Error('parquet footer nested too deeply');
    switch (type) {
      case 1:
      case 2:
        return; // booleans live in the field header
      case 3:
        this.offset += 1;
        return;
      case 4:
      case 5:
      case 6:
        this.varint();
        return;
      case 7:
        this.offset += 8;
        return;
      case 8: {
        const length = Number(this.varint()); // read first: `offset += varint()` would add to the offset before the varint
        this.offset += length;
        return;
      }
      case 9:
      case 10: {
        const header = this.byte();
        let size = header >> 4;
        if (size === 15) size = Number(this.varint());
        const elementType = header & 0x0f;
        for (let i = 0; i < size; i += 1) {
          if (elementType === 1 || elementType === 2) this.offset += 1;
          else this.skip(elementType, depth + 1);
        }
        return;
      }
      case 11: {
        const size = Number(this.varint());
        if (size === 0) return;
        const types = this.byte();
        for (let i = 0; i < size; i += 1) {
          this.skip(types >> 4, depth + 1);
          this.skip(types & 0x0f, depth + 1);
        }
        return;
      }
      case 12:
        this.skipStruct(depth + 1);
        return;
      default:
        throw new Error(`unknown thrift type ${type}`);
    }
  }

  skipStruct(depth: number): void {
    let fieldId = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return;
      const delta = header >> 4;
      fieldId = delta === 0 ? Number(this.zigzag()) : fieldId + delta;
      this.skip(header & 0x0f, depth);
    }
  }

  /** Reads the top-level struct until field `wanted` (an i64); null when absent. */
  findI64(wanted: number): bigint | null {
    let fieldId = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return null;
      const delta = header >> 4;
      const type = header & 0x0f;
      fieldId = delta === 0 ? Number(this.zigzag()) : fieldId + delta;
      if (fieldId === wanted && type === 6) return this.zigzag();
      this.skip(type, 1);
    }
  }
}

/** num_rows from a parquet FileMetaData (Thrift compact); null when unreadable. */
export function parquetRowCount(metadata: Buffer): number | null {
  try {
    const rows = new CompactReader(metadata).findI64(3);
    return rows === null || rows < 0n ? null : Number(rows);
  } catch {
    return null;
  }
}

async function readParquetStats(sizeBytes: number, read: RangeReader): Promise<DatasetStats> {
  if (sizeBytes < 12) return NOTHING;
  const trailer = await readBytes(read, sizeBytes - 8, sizeBytes - 1);
  if (trailer.length !== 8 || trailer.subarray(4).toString('latin1') !== 'PAR1') return NOTHING;
  const metadataLength = trailer.readUInt32LE(0);
  if (metadataLength === 0 || metadataLength > MAX_METADATA_BYTES || metadataLength > sizeBytes - 12) return NOTHING;
  const metadata = await readBytes(read, sizeBytes - 8 - metadataLength, sizeBytes - 9);
  return { sampleCount: parquetRowCount(metadata), tokenCountEstimate: null, fileNames: [] };
}
