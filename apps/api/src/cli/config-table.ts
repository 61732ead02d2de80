#!/usr/bin/env node
// npm run docs:config — rewrites README.md's configuration table from the config schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONFIG_TABLE_END, CONFIG_TABLE_START, configTableMarkdown } from '../config/config-table.js';

const readmePath = resolve(process.cwd(), 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const start = readme.indexOf(CONFIG_TABLE_START);
const end = readme.indexOf(CONFIG_TABLE_END);
if (start < 0 || end < start) {
  process.stderr.write('README.md has no <!-- config-table --> … <!-- /config-table --> markers\n');
  process.exit(1);
}
writeFileSync(readmePath, `${readme.slice(0, start + CONFIG_TABLE_START.length)}\n${configTableMarkdown()}\n${readme.slice(end)}`);
process.stdout.write('README.md configuration table updated\n');
