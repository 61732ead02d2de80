import { describe, expect, it } from 'vitest';
import { parseCsv, parseCsvRecords } from './csv.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, quotes and newlines', () => {
    expect(parseCsv('a,b,c\n1,"x, y","say ""hi"""\n"multi\nline",2,\r\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['multi\nline', '2', ''],
    ]);
  });

  it('handles a BOM, CRLF and a last line without newline', () => {
    expect(parseCsv('\uFEFFa,b\r\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parseCsv('')).toEqual([]);
  });

  it('keys records by the header, with record numbers', () => {
    expect(parseCsvRecords('x,y\n1\n3,4\n')).toEqual([
      { row: 2, record: { x: '1', y: '' } },
      { row: 3, record: { x: '3', y: '4' } },
    ]);
    expect(parseCsvRecords('')).toEqual([]);
  });
});
