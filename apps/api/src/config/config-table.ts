import { z } from 'zod';
import { configSchema } from './app-config.js';

interface ConfigRow {
  name: string;
  defaultValue: string;
  description: string;
}

function unwrapDefault(schema: z.ZodType): { required: boolean; defaultValue?: unknown } {
  if (schema instanceof z.ZodDefault) return { required: false, defaultValue: schema.def.defaultValue };
  if (schema instanceof z.ZodOptional) return { required: false };
  return { required: true };
}

/** One row per environment variable the API reads, from the zod schema itself. */
export function configRows(): ConfigRow[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => {
    const { required, defaultValue } = unwrapDefault(schema as z.ZodType);
    const shown = required ? '(required)' : defaultValue === undefined ? '(unset)' : `\`${String(defaultValue)}\``;
    return { name, defaultValue: shown === '``' ? '(empty)' : shown, description: (schema as z.ZodType).description ?? '' };
  });
}

export const CONFIG_TABLE_START = '<!-- config-table -->';
export const CONFIG_TABLE_END = '<!-- /config-table -->';

/** The README's configuration table, generated so it never drifts from what the code reads. */
export function configTableMarkdown(): string {
  const rows = configRows().map((row) => `| \`${row.name}\` | ${row.defaultValue} | ${row.description.replace(/\|/g, '\\|')} |`);
  return ['| Variable | Default | What it does |', '| --- | --- | --- |', ...rows].join('\n');
}
