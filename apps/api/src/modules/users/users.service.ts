import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { unauthenticated } from '../../core/errors/app-error.js';
import type { Principal } from '../auth/principal.js';
import { User } from './entities/user.entity.js';

@Injectable()
export class UsersService {
  constructor(private readonly dataSource: DataSource) {}

  async describe(principal: Principal) {
    const user = await this.dataSource.manager.findOneBy(User, { id: principal.userId });
    if (!user) throw unauthenticated();
    const orgs: { id: string; name: string; role: string; personal: boolean; provider_enabled: boolean }[] = await this.dataSource.query(
      `SELECT o.id, o.name, m.role, o.personal, o.provider_enabled FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.created_at`,
      [user.id],
    );
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      isAdmin: user.isAdmin,
      twoFactorEnabled: user.totpEnabledAt !== null,
      createdAt: user.createdAt.toISOString(),
      actingOrgId: principal.orgId,
      authenticatedWith: principal.kind,
      scopes: principal.scopes,
      organizations: orgs.map((o) => ({ id: o.id, name: o.name, role: o.role, personal: o.personal, providerEnabled: o.provider_enabled })),
    };
  }
}
