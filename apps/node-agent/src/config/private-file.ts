import { chmodSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes a file only its owner can read or write (0600, directory 0700), atomically: a temporary
 * file in the same directory, then rename, so a crash never leaves half a file.
 */
export function writePrivateFile(path: string, content: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600); // the umask can only remove bits; make the mode exact
  renameSync(tmp, path);
}

/** True when group or others may read or write the file. */
export function isExposed(path: string): boolean {
  return (statSync(path).mode & 0o077) !== 0;
}
