import type { DataSource } from 'typeorm';
import type { IdGenerator } from '../../core/clock/clock.js';
import { conflict } from '../../core/errors/app-error.js';
import { Membership } from '../orgs/entities/membership.entity.js';
import { Organization } from '../orgs/entities/organization.entity.js';
import { User } from './entities/user.entity.js';

export interface NewUser {
  email: string;
  name: string;
  passwordHash: string;
  isAdmin: boolean;
}

const EMAIL_TAKEN = () => conflict('email_taken', 'An account with this email already exists. Sign in instead.');

/** The one way a user comes to exist: with a personal organization they own, in one transaction. */
export async function createUserWithPersonalOrg(dataSource: DataSource, input: NewUser, now: Date, newId: IdGenerator): Promise<User> {
  const email = input.email.trim().toLowerCase();
  if (await dataSource.manager.existsBy(User, { email })) throw EMAIL_TAKEN();
  const org: Organization = { id: newId(), name: `${input.name || email}'s organization`, personal: true, providerEnabled: false, createdAt: now };
  const user: User = {
    id: newId(),
    email,
    name: input.name,
    passwordHash: input.passwordHash,
    isAdmin: input.isAdmin,
    status: 'active',
    personalOrgId: org.id,
    failedLoginCount: 0,
    lockedUntil: null,
    totpSecretSealed: null,
    totpEnabledAt: null,
    createdAt: now,
    deletedAt: null,
  };
  try {
    await dataSource.transaction(async (manager) => {
      await manager.insert(Organization, org);
      await manager.insert(User, user);
      await manager.insert(Membership, { orgId: org.id, userId: user.id, role: 'owner', createdAt: now });
    });
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw EMAIL_TAKEN();
    throw error;
  }
  return user;
}
