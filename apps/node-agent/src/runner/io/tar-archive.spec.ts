import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTar, tarHeader, writeTarFile } from './tar-archive.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('tar archive', () => {
  it('writes the files of a directory tree (sorted) and reads them back byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-spec-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'out', 'sub'), { recursive: true });
    const big = new Uint8Array(70_000).map((_, i) => (i * 31) % 256);
    writeFileSync(join(dir, 'out', 'model.bin'), big);
    writeFileSync(join(dir, 'out', 'metrics.json'), '{"loss":1.5}\n');
    writeFileSync(join(dir, 'out', 'sub', 'empty.txt'), '');
    const names = await writeTarFile(join(dir, 'a.tar'), join(dir, 'out'));
    expect(names).toEqual(['metrics.json', 'model.bin', 'sub/empty.txt']);
    const bytes = readFileSync(join(dir, 'a.tar'));
    expect(bytes.length % 512).toBe(0);
    const files = readTar(bytes);
    expect([...files.keys()]).toEqual(names);
    expect(files.get('model.bin')).toEqual(big);
    expect(new TextDecoder().decode(files.get('metrics.json'))).toBe('{"loss":1.5}\n');
    expect(files.get('sub/empty.txt')).toHaveLength(0);
  });

  it('splits long names into prefix and name, and refuses names that cannot fit', () => {
    const long = `${'d'.repeat(120)}/file.bin`;
    const header = tarHeader(long, 3, 0);
    const archive = Buffer.concat([header, Buffer.from('abc'), Buffer.alloc(509), Buffer.alloc(1024)]);
    expect([...readTar(archive).keys()]).toEqual([long]);
    expect(() => tarHeader('x'.repeat(300), 1, 0)).toThrow(/too long/);
  });

  it('detects a corrupted header', () => {
    const header = tarHeader('a.txt', 0, 0);
    header[0] = 'b'.charCodeAt(0);
    expect(() => readTar(Buffer.concat([header, Buffer.alloc(1024)]))).toThrow(/checksum/);
  });
});
