import { StringDecoder } from 'node:string_decoder';
import type { DatasetFormat } from './entities/dataset.entity.js';

/** About four characters of text per token: an estimate, said so wherever it is shown. */
export const CHARS_PER_TOKEN_ESTIMATE = 4;
/** A JSONL line longer than this is not parsed (its raw length still counts as text). */
const MAX_PARSED_LINE_CHARS = 8 * 1024 * 1024;
/** Archive member names kept for moderation. */
export const MAX_FILE_NAMES = 10_000;

export interface DatasetStats {
  /** Records (jsonl lines, csv rows without the header, archive files); null when not cheaply readable. */
  sampleCount: number | null;
  /** Text characters / 4, for text formats; null otherwise. */
  tokenCountEstimate: number | null;
  /** Names of the files inside an archive (at most MAX_FILE_NAMES), for moderation. */
  fileNames: string[];
}

/** Reads a dataset once, chunk by chunk, as it streams past (the SHA-256 is computed beside it). */
export interface StreamingInspector {
  update(chunk: Buffer): void;
  finish(): DatasetStats;
}

function tokensFromChars(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN_ESTIMATE);
}

function textLength(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length;
  if (depth > 50 || value === null || typeof value !== 'object') return 0;
  let total = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) total += textLength(item, depth + 1);
  return total;
}

/** JSON Lines: one sample per non-empty line; tokens from the string values of each record. */
export class JsonlInspector implements StreamingInspector {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private oversized = false;
  private samples = 0;
  private textChars = 0;

  update(chunk: Buffer): void {
    let text = this.decoder.write(chunk);
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      this.line(this.pending + text.slice(0, newline));
      this.pending = '';
      this.oversized = false;
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    if (this.oversized) {
      this.textChars += text.length;
      return;
    }
    this.pending += text;
    if (this.pending.length > MAX_PARSED_LINE_CHARS) {
      // Too long to parse: count it as text and keep only enough to know it was not empty.
      this.textChars += this.pending.length;
      this.samples += this.pending.trim() ? 1 : 0;
      this.pending = '';
      this.oversized = true;
    }
  }

  private line(raw: string): void {
    if (this.oversized) {
      this.textChars += raw.length;
      return;
    }
    const line = raw.trim();
    if (!line) return;
    this.samples += 1;
    try {
      this.textChars += textLength(JSON.parse(line));
    } catch {
      this.textChars += line.length;
    }
  }

  finish(): DatasetStats {
    const rest = this.pending + this.decoder.end();
    this.line(rest);
    this.pending = '';
    return { sampleCount: this.samples, tokenCountEstimate: tokensFromChars(this.textChars), fileNames: [] };
  }
}

/** CSV (RFC 4180 quoting, newlines inside quotes allowed): rows minus the header; tokens from the cells of data rows. */
export class CsvInspector implements StreamingInspector {
  private readonly decoder = new StringDecoder('utf8');
  private inQuotes = false;
  private rows = 0;
  private rowHasContent = false;
  private rowChars = 0;
  private dataChars = 0;
  private lastWasQuote = false;

  update(chunk: Buffer): void {
    this.scan(this.decoder.write(chunk));
  }

  private scan(text: string): void {
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (this.inQuotes) {
        if (c === 34 /* " */) {
          this.inQuotes = false;
          this.lastWasQuote = true;
        } else {
          this.rowChars += 1;
          this.rowHasContent = true;
        }
        continue;
      }
      if (c === 34) {
        // "" inside a quoted field is an escaped quote: one character of text.
        if (this.lastWasQuote) this.rowChars += 1;
        this.inQuotes = true;
        this.rowHasContent = true;
        this.lastWasQuote = false;
        continue;
      }
      this.lastWasQuote = false;
      if (c === 10 /* \n */) this.endRow();
      else if (c === 13 /* \r */ || c === 44 /* , */) {
        if (c === 44) this.rowHasContent = true;
      } else {
        this.rowChars += 1;
        this.rowHasContent = true;
      }
    }
  }

  private endRow(): void {
    if (this.rowHasContent) {
      this.rows += 1;
      if (this.rows > 1) this.dataChars += this.rowChars;
    }
    this.rowHasContent = false;
    this.rowChars = 0;
  }

  finish(): DatasetStats {
    this.scan(this.decoder.end());
    this.endRow();
    return { sampleCount: Math.max(this.rows - 1, 0), tokenCountEstimate: tokensFromChars(this.dataChars), fileNames: [] };
  }
}

const TAR_BLOCK = 512;

function tarString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function tarSize(block: Buffer): number {
  const field = block.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) {
    // base-256 (GNU) for sizes over 8 GiB
    let size = 0;
    for (let i = 1; i < field.length; i += 1) size = size * 256 + (field[i] ?? 0);
    return size;
  }
  const octal = tarString(block, 124, 12).trim();
  return octal ? Number.parseInt(octal, 8) : 0;
}

/**
 * tar (ustar, GNU long names, pax paths), uncompressed: regular files are the samples, their names
 * go to moderation. Headers are read as the bytes stream past; file contents are skipped.
 */
export class TarInspector implements StreamingInspector {
  private header = Buffer.alloc(0);
  private skip = 0;
  /** Body of a GNU long-name ('L') or pax ('x') header being collected. */
  private meta: { type: string; size: number; chunks: Buffer[]; collected: number } | null = null;
  private nextName: string | null = null;
  private files = 0;
  private names: string[] = [];
  private ended = false;
  private malformed = false;

  update(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.ended && !this.malformed) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, chunk.length - offset);
        if (this.meta) {
          this.meta.chunks.push(chunk.subarray(offset, offset + take));
          this.meta.collected += take;
        }
        this.skip -= take;
        offset += take;
        if (this.skip === 0 && this.meta) this.finishMeta();
        continue;
      }
      const need = TAR_BLOCK - this.header.length;
      const take = Math.min(need, chunk.length - offset);
      this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.header.length === TAR_BLOCK) {
        const block = this.header;
        this.header = Buffer.alloc(0);
        this.readHeader(block);
      }
    }
  }

  private readHeader(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      this.ended = true;
      return;
    }
    const magic = tarString(block, 257, 6);
    if (!magic.startsWith('ustar') && !this.checksumValid(block)) {
      this.malformed = true;
      return;
    }
    const size = tarSize(block);
    const type = String.fromCharCode(block[156] ?? 0);
    const padded = Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    if (type === 'L' || type === 'x') {
      this.meta = { type, size, chunks: [], collected: 0 };
      this.skip = padded;
      if (padded === 0) this.finishMeta();
      return;
    }
    if (type === '0' || type === '\0' || type === '7') {
      const prefix = magic.startsWith('ustar') ? tarString(block, 345, 155) : '';
      const name = this.nextName ?? (prefix ? `${prefix}/${tarString(block, 0, 100)}` : tarString(block, 0, 100));
      this.files += 1;
      if (this.names.length < MAX_FILE_NAMES) this.names.push(name);
    }
    this.nextName = null;
    this.skip = padded;
  }

  private checksumValid(block: Buffer): boolean {
    const stored = Number.parseInt(tarString(block, 148, 8).trim(), 8);
    let sum = 0;
    for (let i = 0; i < TAR_BLOCK; i += 1) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
    return stored === sum;
  }

  private finishMeta(): void {
    const meta = this.meta;
    this.meta = null;
    if (!meta) return;
    const body = Buffer.concat(meta.chunks).subarray(0, meta.size).toString('utf8');
    if (meta.type === 'L') this.nextName = body.replace(/\0+$/, '');
    else {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body);
      if (path?.[1]) this.nextName = path[1];
    }
  }

  finish(): DatasetStats {
    return { sampleCount: this.malformed ? null : this.files, tokenCountEstimate: null, fileNames: this.names };
  }
}

/** Formats whose count needs the end of the file (zip, parquet) are read separately; this one reads nothing. */
export class NullInspector implements StreamingInspector {
  update(): void {}
  finish(): DatasetStats {
    return { sampleCount: null, tokenCountEstimate: null, fileNames: [] };
  }
}

export function streamingInspectorFor(format: DatasetFormat): StreamingInspector {
  switch (format) {
    case 'jsonl':
      return new JsonlInspector();
    case 'csv':
      return new CsvInspector();
    case 'tar':
      return new TarInspector();
    default:
      return new NullInspector();
  }
}
