import type { INestApplicationContext } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../core/clock/clock.js';
import { AuditService } from '../modules/audit/audit.service.js';
import { AuthService } from '../modules/auth/auth.service.js';
import { PasswordService } from '../modules/auth/password.service.js';
import { User } from '../modules/users/entities/user.entity.js';

export interface DemoAccount {
  email: string;
  password: string;
  isAdmin: boolean;
  name: string;
}

/** Creates each account unless it exists (by email); returns the ones it created. */
export async function ensureAccounts(app: INestApplicationContext, accounts: DemoAccount[]): Promise<DemoAccount[]> {
  const dataSource = app.get(DataSource);
  const auth = app.get(AuthService);
  const passwords = app.get(PasswordService);
  const audit = app.get(AuditService);
  const clock = app.get<Clock>(CLOCK);
  const created: DemoAccount[] = [];
  for (const account of accounts) {
    const existing = await dataSource.manager.findOneBy(User, { email: account.email });
    if (existing) {
      if (account.isAdmin && !existing.isAdmin) {
        await dataSource.manager.update(User, { id: existing.id }, { isAdmin: true });
        await audit.record({ actor: 'system', action: 'admin.granted', target: { type: 'user', id: existing.id } });
      }
      continue;
    }
    const user = await auth.createUser({ email: account.email, name: account.name, passwordHash: await passwords.hash(account.password), isAdmin: account.isAdmin }, clock.now());
    await audit.record({ actor: 'system', action: account.isAdmin ? 'admin.created' : 'user.created', target: { type: 'user', id: user.id } });
    created.push(account);
  }
  return created;
}

/** The demo admin and customer of `npm start`, with the passwords the start script chose. */
export async function seedDemo(app: INestApplicationContext, logger: Logger): Promise<void> {
  const adminPassword = process.env.DEMO_ADMIN_PASSWORD;
  const customerPassword = process.env.DEMO_CUSTOMER_PASSWORD;
  if (!adminPassword || !customerPassword) {
    logger.warn('DEMO_SEED is on but DEMO_ADMIN_PASSWORD / DEMO_CUSTOMER_PASSWORD are not set; no demo accounts created');
    return;
  }
  const created = await ensureAccounts(app, [
    { email: 'admin@anneal.local', password: adminPassword, isAdmin: true, name: 'Demo Admin' },
    { email: 'customer@anneal.local', password: customerPassword, isAdmin: false, name: 'Demo Customer' },
  ]);
  if (created.length > 0) logger.info({ accounts: created.map((a) => a.email) }, 'demo accounts created');
}
