import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from './app-config.js';
import { CONFIG_TABLE_END, CONFIG_TABLE_START, configRows, configTableMarkdown } from './config-table.js';

describe('configuration table', () => {
  it('documents every variable with a sentence', () => {
    const rows = configRows();
    expect(rows.map((row) => row.name)).toEqual(Object.keys(configSchema.shape));
    for (const row of rows) expect(row.description.length, `${row.name} has no description`).toBeGreaterThan(10);
  });

  it("README.md carries the table as the code defines it (regenerate: npm run docs:config)", () => {
    const readme = readFileSync(resolve(import.meta.dirname, '..', '..', '..', '..', 'README.md'), 'utf8');
    const start = readme.indexOf(CONFIG_TABLE_START);
    const end = readme.indexOf(CONFIG_TABLE_END);
    expect(start, 'README.md has no config-table markers').toBeGreaterThanOrEqual(0);
    expect(readme.slice(start + CONFIG_TABLE_START.length, end).trim()).toBe(configTableMarkdown());
  });
});
