import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { newId, systemClock } from '../core/clock/clock.js';
import { returningRows } from '../core/database/returning-rows.js';
import { AuditService } from '../modules/audit/audit.service.js';
import { PasswordService } from '../modules/auth/password.service.js';
import { createUserWithPersonalOrg } from '../modules/users/create-user.js';
import { User } from '../modules/users/entities/user.entity.js';

export interface AccountSpec {
  email: string;
  password: string;
  isAdmin: boolean;
  name: string;
}

/**
 * Creates each account unless its email exists; an existing account asked to be admin is promoted.
 * Every creation and promotion is audited with the system as actor. Returns what changed.
 */
export async function ensureAccounts(dataSource: DataSource, accounts: AccountSpec[]): Promise<{ created: string[]; promoted: string[] }> {
  const audit = new AuditService(dataSource, systemClock, newId);
  const passwords = new PasswordService();
  const created: string[] = [];
  const promoted: string[] = [];
  for (const account of accounts) {
    const existing = await dataSource.manager.findOneBy(User, { email: account.email.toLowerCase() });
    if (existing) {
      if (account.isAdmin && !existing.isAdmin) {
        await dataSource.transaction(async (manager) => {
          await manager.update(User, { id: existing.id }, { isAdmin: true });
          await audit.record({ actor: 'system', action: 'admin.granted', target: { type: 'user', id: existing.id } }, manager);
        });
        promoted.push(account.email);
      }
      continue;
    }
    const input = { email: account.email, name: account.name, passwordHash: await passwords.hash(account.password), isAdmin: account.isAdmin };
    const user = await createUserWithPersonalOrg(dataSource, input, systemClock.now(), newId);
    await audit.record({ actor: 'system', action: account.isAdmin ? 'admin.created' : 'user.created', target: { type: 'user', id: user.id } });
    created.push(account.email);
  }
  return { created, promoted };
}

export const DEMO_ADMIN_EMAIL = 'admin@anneal.local';
export const DEMO_CUSTOMER_EMAIL = 'customer@anneal.local';
export const DEMO_PROVIDER_EMAIL = 'provider@anneal.local';

/** The demo admin, customer and provider of `npm start`, with the passwords the start script chose. */
export async function seedDemo(dataSource: DataSource, logger: Logger, passwords: { admin?: string; customer?: string; provider?: string }): Promise<void> {
  if (!passwords.admin || !passwords.customer) {
    logger.warn('DEMO_SEED is on but DEMO_ADMIN_PASSWORD / DEMO_CUSTOMER_PASSWORD are not set; no demo accounts created');
    return;
  }
  const { created } = await ensureAccounts(dataSource, [
    { email: DEMO_ADMIN_EMAIL, password: passwords.admin, isAdmin: true, name: 'Demo Admin' },
    { email: DEMO_CUSTOMER_EMAIL, password: passwords.customer, isAdmin: false, name: 'Demo Customer' },
  ]);
  if (created.length > 0) logger.info({ accounts: created }, 'demo accounts created');
  if (passwords.provider) await seedDemoProvider(dataSource, logger, passwords.provider);
}

/** The demo provider: an account whose personal organization has the provider role (the local demo node runs under it). */
export async function seedDemoProvider(dataSource: DataSource, logger: Logger, password: string): Promise<void> {
  const { created } = await ensureAccounts(dataSource, [{ email: DEMO_PROVIDER_EMAIL, password, isAdmin: false, name: 'Demo Provider' }]);
  const user = await dataSource.manager.findOneBy(User, { email: DEMO_PROVIDER_EMAIL });
  if (!user) return;
  const enabled = returningRows(
    await dataSource.query('UPDATE organizations SET provider_enabled = true WHERE id = $1 AND NOT provider_enabled RETURNING id', [user.personalOrgId]),
  );
  if (enabled.length > 0) {
    await new AuditService(dataSource, systemClock, newId).record({ actor: 'system', orgId: user.personalOrgId, action: 'org.provider_enabled', target: { type: 'org', id: user.personalOrgId } });
  }
  if (created.length > 0) logger.info({ accounts: created }, 'demo provider created');
}
