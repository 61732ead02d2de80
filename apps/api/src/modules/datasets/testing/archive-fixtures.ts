import { crc32 } from 'node:zlib';

/** Small, valid archives built in memory for tests (ustar tar, stored zip, a parquet footer). */

function tarHeader(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name.slice(0, 100), 0, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  block.write('00000000000\0', 136);
  block.write(type, 156);
  block.write('ustar\0', 257);
  block.write('00', 263);
  block.fill(32, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

export function tarEntry(name: string, content: Buffer, type = '0'): Buffer {
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([tarHeader(name, content.length, type), content, padding]);
}

export function tarArchive(files: { name: string; content: Buffer }[]): Buffer {
  return Buffer.concat([...files.map((f) => tarEntry(f.name, f.content)), Buffer.alloc(1024)]);
}

/** A zip with every file stored (no compression). */
export function zipArchive(files: { name: string; content: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const crc = crc32(file.content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(file.content.length, 18);
    local.writeUInt32LE(file.content.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(file.content.length, 20);
    central.writeUInt32LE(file.content.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, file.content);
    centrals.push(central, name);
    offset += 30 + name.length + file.content.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

const zigzag = (n: bigint) => varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);

/** A parquet file's shape: magic, (no real column data), a FileMetaData footer with num_rows, length, magic. */
export function parquetFile(numRows: number, columns: string[] = ['text']): Buffer {
  const bytes: number[] = [];
  bytes.push(0x15, ...zigzag(1n)); // 1: i32 version
  bytes.push(0x19, ((columns.length + 1) << 4) | 12); // 2: list<SchemaElement>
  for (const name of ['schema', ...columns]) {
    const encoded = [...Buffer.from(name)];
    bytes.push(0x48, ...varint(BigInt(encoded.length)), ...encoded); // 4: binary name
    bytes.push(0x15, ...zigzag(1n)); // 5: i32 num_children-ish, skipped by the reader
    bytes.push(0x00);
  }
  bytes.push(0x16, ...zigzag(BigInt(numRows))); // 3: i64 num_rows
  bytes.push(0x19, 0x0c); // 4: empty list<RowGroup>
  bytes.push(0x00);
  const metadata = Buffer.from(bytes);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(metadata.length);
  return Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(16, 7), metadata, length, Buffer.from('PAR1')]);
}
