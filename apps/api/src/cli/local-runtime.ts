import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The database URL of the `npm start` running from this checkout, if any (.anneal/runtime.json). */
export function localDatabaseUrl(cwd = process.cwd()): string | undefined {
  for (const dir of [cwd, resolve(cwd, '..'), resolve(cwd, '..', '..')]) {
    const file = resolve(dir, '.anneal', 'runtime.json');
    if (existsSync(file)) {
      const runtime = JSON.parse(readFileSync(file, 'utf8')) as { databaseUrl?: string };
      if (runtime.databaseUrl) return runtime.databaseUrl;
    }
  }
  return undefined;
}
