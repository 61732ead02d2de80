#!/usr/bin/env node
// The dependency rule of ARCHITECTURE.md, checked on every source file:
//   - libs never import apps, and never reach into another project by a relative path;
//   - libs/billing and libs/benchmarks import no NestJS, TypeORM or NATS and read no process.env;
//   - libs/providers imports no NestJS or TypeORM and reads no process.env (adapters take a config object);
//   - each lib imports only the workspace libs listed for it below.
// Exits non-zero with one line per violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

const root = resolve(import.meta.dirname, '..');

const FRAMEWORK = [/^@nestjs\//, /^typeorm(\/|$)/, /^@nats-io\//, /^nats(\/|$)/];
const APPS = [/^@anneal\/(api|web|node-agent)(\/|$)/];

/** project root → rules */
const rules = {
  'libs/benchmarks': { forbidden: [...FRAMEWORK, ...APPS], workspace: [], noProcessEnv: true },
  'libs/billing': { forbidden: [...FRAMEWORK, ...APPS], workspace: [], noProcessEnv: true },
  'libs/providers': { forbidden: [/^@nestjs\//, /^typeorm(\/|$)/, ...APPS], workspace: ['@anneal/benchmarks'], noProcessEnv: true },
  'apps/node-agent': { forbidden: [/^@nestjs\//, /^typeorm(\/|$)/, /^@anneal\/(api|web)(\/|$)/], workspace: ['@anneal/benchmarks', '@anneal/providers'], noProcessEnv: false },
  'apps/web': { forbidden: [/^@nestjs\//, /^typeorm(\/|$)/, /^@nats-io\//, /^@anneal\/(api|node-agent|billing|providers)(\/|$)/], workspace: ['@anneal/benchmarks'], noProcessEnv: true },
  'apps/api': { forbidden: [/^@anneal\/(web|node-agent)(\/|$)/], workspace: ['@anneal/benchmarks', '@anneal/billing', '@anneal/providers'], noProcessEnv: false },
};

const TEST_FILE = /\.(spec|int-spec|e2e-spec)\.tsx?$/;
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|mts)$/.test(entry) && !entry.endsWith('.d.ts')) yield path;
  }
}

const violations = [];
for (const [project, rule] of Object.entries(rules)) {
  const projectRoot = join(root, project);
  const srcRoot = join(projectRoot, 'src');
  let files;
  try {
    files = [...sourceFiles(srcRoot)];
  } catch {
    continue;
  }
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const where = relative(root, file);
    const isTest = TEST_FILE.test(file) || file.includes(`${sep}testing${sep}`);
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (!specifier) continue;
      if (specifier.startsWith('.')) {
        const target = resolve(join(file, '..'), specifier);
        if (!target.startsWith(projectRoot + sep)) violations.push(`${where}: relative import "${specifier}" leaves ${project}`);
        continue;
      }
      if (rule.forbidden.some((pattern) => pattern.test(specifier))) violations.push(`${where}: ${project} may not import "${specifier}"`);
      if (specifier.startsWith('@anneal/')) {
        const pkg = specifier.split('/').slice(0, 2).join('/');
        const allowed = rule.workspace.includes(pkg) || (isTest && pkg === '@anneal/test');
        if (!allowed) violations.push(`${where}: ${project} may not depend on "${pkg}"`);
      }
    }
    if (rule.noProcessEnv && !isTest && /\bprocess\.env\b/.test(text)) violations.push(`${where}: ${project} reads process.env (configuration comes in as an argument)`);
  }
}

if (violations.length > 0) {
  process.stderr.write(`Module boundary violations (${violations.length}):\n${violations.map((v) => `  ${v}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`module boundaries: ${Object.keys(rules).length} projects checked, no violations\n`);
