#!/usr/bin/env node
// npm run admin:create -- --email ops@example.com [--password ...] [--name ...]
// The only way to make a platform admin. Creates the account (or promotes an existing one) and
// prints a generated password once when none is given. Reads DATABASE_URL, or the URL of the
// running `npm start` from .anneal/runtime.json.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createDataSource, runMigrationsLocked } from '../core/database/data-source.js';
import { ensureAccounts } from './demo-seed.js';
import { localDatabaseUrl } from './local-runtime.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } } });
  const email = values.email?.trim().toLowerCase();
  if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) {
    process.stderr.write('Give the admin\'s email: npm run admin:create -- --email ops@example.com\n');
    return 2;
  }
  if (values.password !== undefined && values.password.length < 10) {
    process.stderr.write('--password must be at least 10 characters (or leave it out to have one generated)\n');
    return 2;
  }
  const url = process.env.DATABASE_URL ?? localDatabaseUrl();
  if (!url) {
    process.stderr.write('Set DATABASE_URL, or start Anneal with `npm start` first.\n');
    return 2;
  }
  const password = values.password ?? randomBytes(15).toString('base64url');
  const dataSource = await createDataSource(url, 2).initialize();
  try {
    await runMigrationsLocked(dataSource);
    const { created, promoted } = await ensureAccounts(dataSource, [{ email, password, isAdmin: true, name: values.name ?? 'Administrator' }]);
    if (created.length > 0) {
      process.stdout.write(`Created admin ${email}${values.password ? '' : ` with password: ${password}\n(shown once; change it after signing in)`}\n`);
    } else if (promoted.length > 0) {
      process.stdout.write(`${email} already had an account; it is now a platform admin (password unchanged).\n`);
    } else {
      process.stdout.write(`${email} is already a platform admin; nothing changed.\n`);
    }
    process.stdout.write('Admins must turn on two-factor authentication before using the admin console.\n');
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`admin:create failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
