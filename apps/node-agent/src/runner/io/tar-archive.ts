import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * A minimal POSIX ustar writer: regular files only, names up to 100 bytes (or 155 + 100 split on a
 * '/'), written to disk in 1 MiB pieces so archives of any size stream. Enough for an output
 * directory (model weights, metrics.json) to travel through one presigned PUT.
 */
export async function writeTarFile(archivePath: string, rootDir: string, options: { mtimeS?: number } = {}): Promise<string[]> {
  const files = await listFiles(rootDir);
  const out = await open(archivePath, 'w', 0o600);
  try {
    for (const file of files) {
      const name = relative(rootDir, file).split(sep).join('/');
      const { size } = await stat(file);
      await out.write(tarHeader(name, size, options.mtimeS ?? 0));
      const input = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(1 << 20);
        let remaining = size;
        while (remaining > 0) {
          const { bytesRead } = await input.read(buffer, 0, Math.min(buffer.length, remaining));
          if (bytesRead === 0) throw new Error(`${name} shrank while it was archived`);
          await out.write(buffer.subarray(0, bytesRead));
          remaining -= bytesRead;
        }
      } finally {
        await input.close();
      }
      const padding = (512 - (size % 512)) % 512;
      if (padding) await out.write(Buffer.alloc(padding));
    }
    await out.write(Buffer.alloc(1024));
  } finally {
    await out.close();
  }
  return files.map((file) => relative(rootDir, file).split(sep).join('/'));
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/** The 512-byte ustar header of a regular file. */
export function tarHeader(name: string, sizeBytes: number, mtimeS: number): Buffer {
  const header = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`file name too long for a tar archive: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  header.write(base, 0, 100, 'utf8');
  header.write('0000644\0', 100, 8, 'ascii');
  header.write('0000000\0', 108, 8, 'ascii');
  header.write('0000000\0', 116, 8, 'ascii');
  header.write(`${sizeBytes.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  header.write(`${Math.floor(mtimeS).toString(8).padStart(11, '0')}\0`, 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii');
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  let checksum = 0;
  for (const byte of header) checksum += byte;
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

/** Reads the regular files of a ustar archive held in memory (for checks and tests). */
export function readTar(bytes: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset + 512 <= buffer.length) {
    const header = buffer.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (from: number, length: number) => header.toString('utf8', from, from + length).replace(/\0.*$/s, '');
    let stored = 0;
    for (let i = 0; i < 512; i += 1) stored += i >= 148 && i < 156 ? 32 : header[i]!;
    if (stored !== Number.parseInt(field(148, 8).trim(), 8)) throw new Error('tar header checksum mismatch');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = Number.parseInt(field(124, 12).trim(), 8);
    const type = field(156, 1);
    offset += 512;
    if (type === '0' || type === '') files.set(name, new Uint8Array(buffer.subarray(offset, offset + size)));
    offset += Math.ceil(size / 512) * 512;
  }
  return files;
}
