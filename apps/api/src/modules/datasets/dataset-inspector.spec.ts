import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvInspector, JsonlInspector, TarInspector, type StreamingInspector } from './dataset-inspector.js';
import { tarEntry } from './testing/archive-fixtures.js';

/** Feeds the bytes in the given chunk sizes (cycled), as a network stream would. */
function feed(inspector: StreamingInspector, bytes: Buffer, chunkSizes: number[] = [bytes.length || 1]) {
  let offset = 0;
  let i = 0;
  while (offset < bytes.length) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length] ?? 1);
    inspector.update(bytes.subarray(offset, offset + size));
    offset += size;
    i += 1;
  }
  return inspector.finish();
}

describe('JsonlInspector', () => {
  it('counts non-empty lines and estimates tokens from string values (~4 chars/token)', () => {
    const text = '{"prompt":"abcd","completion":"efghijkl"}\n\n{"text":"1234"}\r\n{"n":5}\n';
    expect(feed(new JsonlInspector(), Buffer.from(text))).toEqual({ sampleCount: 3, tokenCountEstimate: 4, fileNames: [] });
  });

  it('counts a last line without a newline, and unparseable lines by their raw length', () => {
    expect(feed(new JsonlInspector(), Buffer.from('{"a":"xy"}\nnot json'))).toEqual({ sampleCount: 2, tokenCountEstimate: 3, fileNames: [] });
  });

  it('gives the same answer however the bytes are chunked (multi-byte characters split)', () => {
    const text = Buffer.from(Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `héllo wörld ✓ ${i}` })).join('\n'));
    const whole = feed(new JsonlInspector(), text);
    expect(whole.sampleCount).toBe(50);
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 10 }), (sizes) => {
      expect(feed(new JsonlInspector(), text, sizes)).toEqual(whole);
    }));
  });
});

describe('CsvInspector', () => {
  it('counts rows minus the header, with quoted commas, quotes and newlines', () => {
    const csv = 'prompt,completion\n"a, b","say ""hi"""\n"multi\nline",x\n\nlast,row';
    expect(feed(new CsvInspector(), Buffer.from(csv))).toEqual({ sampleCount: 3, tokenCountEstimate: 8, fileNames: [] }); // 12 + 11 + 7 = 30 characters of cells
  });

  it('a header alone is zero samples; CRLF rows count once', () => {
    expect(feed(new CsvInspector(), Buffer.from('a,b\r\n')).sampleCount).toBe(0);
    expect(feed(new CsvInspector(), Buffer.from('a,b\r\n1,2\r\n3,4\r\n')).sampleCount).toBe(2);
    expect(feed(new CsvInspector(), Buffer.alloc(0)).sampleCount).toBe(0);
  });

  it('is independent of chunking', () => {
    const csv = Buffer.from(Array.from({ length: 40 }, (_, i) => `"row ${i}, ""q""",ü${i}\n`).join(''));
    const whole = feed(new CsvInspector(), csv);
    expect(whole.sampleCount).toBe(39);
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 53 }), { minLength: 1, maxLength: 8 }), (sizes) => {
      expect(feed(new CsvInspector(), csv, sizes)).toEqual(whole);
    }));
  });
});

describe('TarInspector', () => {
  it('counts regular files and collects their names, skipping contents', () => {
    const archive = Buffer.concat([
      tarEntry('images/', Buffer.alloc(0), '5'),
      tarEntry('images/cat.png', Buffer.alloc(700, 1)),
      tarEntry('images/dog.png', Buffer.alloc(512, 2)),
      tarEntry('././@LongLink', Buffer.from(`images/${'x'.repeat(120)}.png\0`), 'L'),
      tarEntry('images/truncated-name', Buffer.from('abc')),
      Buffer.alloc(1024),
    ]);
    const expected = { sampleCount: 3, tokenCountEstimate: null, fileNames: ['images/cat.png', 'images/dog.png', `images/${'x'.repeat(120)}.png`] };
    expect(feed(new TarInspector(), archive)).toEqual(expected);
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 1100 }), { minLength: 1, maxLength: 6 }), (sizes) => {
      expect(feed(new TarInspector(), archive, sizes)).toEqual(expected);
    }));
  });

  it('reads pax paths', () => {
    const pax = Buffer.from('30 path=dir/a-very-long-name.txt\n');
    const archive = Buffer.concat([tarEntry('PaxHeader', pax, 'x'), tarEntry('short', Buffer.from('hi')), Buffer.alloc(1024)]);
    expect(feed(new TarInspector(), archive).fileNames).toEqual(['dir/a-very-long-name.txt']);
  });

  it('says null (not a wrong number) for bytes that are not a tar archive', () => {
    expect(feed(new TarInspector(), Buffer.from('x'.repeat(2048))).sampleCount).toBeNull();
  });
});
