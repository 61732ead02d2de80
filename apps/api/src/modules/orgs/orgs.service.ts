import { Inject, Injectable } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { conflict, forbidden, notFound } from '../../core/errors/app-error.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthInvalidationService } from '../auth/auth-invalidation.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { TokenService } from '../auth/token.service.js';
import { EmailOutboxService } from '../notifications/email-outbox.service.js';
import { User } from '../users/entities/user.entity.js';
import { Invite } from './entities/invite.entity.js';
import { Membership, type OrgRole } from './entities/membership.entity.js';
import { Organization } from './entities/organization.entity.js';

const INVITE_DAYS = 7;
const MANAGERS: readonly OrgRole[] = ['owner', 'admin'];

@Injectable()
export class OrgsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly invalidation: AuthInvalidationService,
    private readonly tokens: TokenService,
    private readonly outbox: EmailOutboxService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  async listMine(principal: Principal) {
    const rows: { id: string; name: string; role: OrgRole; personal: boolean; provider_enabled: boolean; created_at: Date }[] = await this.dataSource.query(
      `SELECT o.id, o.name, m.role, o.personal, o.provider_enabled, o.created_at FROM memberships m JOIN organizations o ON o.id = m.org_id
       WHERE m.user_id = $1 ${principal.kind === 'api_key' ? 'AND o.id = $2' : ''} ORDER BY o.created_at`,
      principal.kind === 'api_key' ? [principal.userId, principal.orgId] : [principal.userId],
    );
    return rows.map((row) => ({ id: row.id, name: row.name, role: row.role, personal: row.personal, providerEnabled: row.provider_enabled, createdAt: row.created_at.toISOString() }));
  }

  async create(principal: Principal, name: string, meta: RequestMeta) {
    const now = this.clock.now();
    const org: Organization = { id: this.newId(), name: name.trim(), personal: false, providerEnabled: false, createdAt: now };
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(Organization, org);
      await manager.insert(Membership, { orgId: org.id, userId: principal.userId, role: 'owner', createdAt: now });
      await this.audit.record({ actor: principal, orgId: org.id, action: 'org.created', target: { type: 'org', id: org.id }, meta }, manager);
    });
    return { id: org.id, name: org.name, role: 'owner' as const, personal: false, providerEnabled: false, createdAt: now.toISOString() };
  }

  async get(principal: Principal, orgId: string) {
    const { org, membership } = await this.requireMember(principal, orgId);
    return { id: org.id, name: org.name, role: membership.role, personal: org.personal, providerEnabled: org.providerEnabled, createdAt: org.createdAt.toISOString() };
  }

  async members(principal: Principal, orgId: string) {
    await this.requireMember(principal, orgId);
    const rows: { user_id: string; email: string | null; name: string | null; role: OrgRole; created_at: Date }[] = await this.dataSource.query(
      `SELECT m.user_id, u.email, u.name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY m.created_at`,
      [orgId],
    );
    return rows.map((row) => ({ userId: row.user_id, email: row.email, name: row.name, role: row.role, joinedAt: row.created_at.toISOString() }));
  }

  async invite(principal: Principal, orgId: string, email: string, role: OrgRole, meta: RequestMeta) {
    const { org, membership } = await this.requireMember(principal, orgId);
    if (!MANAGERS.includes(membership.role)) throw forbidden('Only owners and admins can invite people.');
    if (role === 'owner' && membership.role !== 'owner') throw forbidden('Only an owner can invite another owner.');
    const now = this.clock.now();
    const token = this.tokens.randomToken('inv_', 24);
    const invite: Invite = {
      id: this.newId(),
      orgId,
      email: email.trim().toLowerCase(),
      role,
      tokenHash: this.tokens.hashSecret(token),
      invitedBy: principal.userId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + INVITE_DAYS * 86_400_000),
      acceptedAt: null,
    };
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(Invite, invite);
      await this.outbox.enqueue(manager, {
        to: invite.email,
        subject: `You are invited to ${org.name} on Anneal`,
        body: `You have been invited to join ${org.name} as ${role}. Sign in to Anneal and accept with this invitation token within ${INVITE_DAYS} days:\n\n${token}\n`,
      });
      await this.audit.record({ actor: principal, orgId, action: 'org.member_invited', target: { type: 'invite', id: invite.id }, meta, details: { role } }, manager);
    });
    return { id: invite.id, email: invite.email, role, expiresAt: invite.expiresAt.toISOString() };
  }

  async acceptInvite(principal: Principal, token: string, meta: RequestMeta) {
    const now = this.clock.now();
    const invite = await this.dataSource.manager.findOneBy(Invite, { tokenHash: this.tokens.hashSecret(token) });
    const user = await this.dataSource.manager.findOneBy(User, { id: principal.userId });
    if (!invite || invite.acceptedAt || invite.expiresAt <= now || !user || user.email !== invite.email) throw notFound('Invitation');
    await this.dataSource.transaction(async (manager) => {
      const claimed = await manager.update(Invite, { id: invite.id, acceptedAt: IsNull() }, { acceptedAt: now });
      if ((claimed.affected ?? 0) !== 1) throw notFound('Invitation');
      await manager.createQueryBuilder().insert().into(Membership).values({ orgId: invite.orgId, userId: user.id, role: invite.role, createdAt: now }).orIgnore().execute();
      await this.audit.record({ actor: principal, orgId: invite.orgId, action: 'org.member_joined', target: { type: 'user', id: user.id }, meta, details: { role: invite.role } }, manager);
    });
    return this.get(principal, invite.orgId);
  }

  async changeRole(principal: Principal, orgId: string, userId: string, role: OrgRole, meta: RequestMeta) {
    const { membership } = await this.requireMember(principal, orgId);
    if (membership.role !== 'owner') throw forbidden('Only owners can change roles.');
    await this.dataSource.transaction(async (manager) => {
      const target = await manager.findOne(Membership, { where: { orgId, userId }, lock: { mode: 'pessimistic_write' } });
      if (!target) throw notFound('Member');
      if (target.role === 'owner' && role !== 'owner') await this.ensureAnotherOwner(manager, orgId, userId);
      await manager.update(Membership, { orgId, userId }, { role });
      await this.audit.record({ actor: principal, orgId, action: 'org.role_changed', target: { type: 'user', id: userId }, meta, details: { from: target.role, to: role } }, manager);
    });
    await this.invalidation.announce({ kind: 'membership', userId, orgId });
    return { userId, role };
  }

  async removeMember(principal: Principal, orgId: string, userId: string, meta: RequestMeta) {
    const { membership } = await this.requireMember(principal, orgId);
    const self = userId === principal.userId;
    if (!self && !MANAGERS.includes(membership.role)) throw forbidden('Only owners and admins can remove members.');
    await this.dataSource.transaction(async (manager) => {
      const target = await manager.findOne(Membership, { where: { orgId, userId }, lock: { mode: 'pessimistic_write' } });
      if (!target) throw notFound('Member');
      if (target.role === 'owner' && membership.role !== 'owner') throw forbidden('Only an owner can remove an owner.');
      if (target.role === 'owner') await this.ensureAnotherOwner(manager, orgId, userId);
      await manager.delete(Membership, { orgId, userId });
      await this.audit.record({ actor: principal, orgId, action: 'org.member_removed', target: { type: 'user', id: userId }, meta }, manager);
    });
    await this.invalidation.announce({ kind: 'membership', userId, orgId });
  }

  /** Platform role "provider": the organization may list GPUs. */
  async enableProvider(principal: Principal, orgId: string, meta: RequestMeta) {
    const { membership } = await this.requireMember(principal, orgId);
    if (membership.role !== 'owner') throw forbidden('Only owners can turn on the provider role.');
    await this.dataSource.transaction(async (manager) => {
      await manager.update(Organization, { id: orgId }, { providerEnabled: true });
      await this.audit.record({ actor: principal, orgId, action: 'org.provider_enabled', target: { type: 'org', id: orgId }, meta }, manager);
    });
    return this.get(principal, orgId);
  }

  private async ensureAnotherOwner(manager: EntityManager, orgId: string, leavingUserId: string) {
    const owners = await manager.countBy(Membership, { orgId, role: 'owner' });
    const leavingIsOwner = await manager.existsBy(Membership, { orgId, userId: leavingUserId, role: 'owner' });
    if (leavingIsOwner && owners <= 1) throw conflict('last_owner', 'An organization needs at least one owner: make someone else owner first.');
  }

  /** Non-members (and API keys of other organizations) get 404: another org's resource does not exist for them. */
  private async requireMember(principal: Principal, orgId: string): Promise<{ org: Organization; membership: Membership }> {
    if (principal.kind === 'api_key' && principal.orgId !== orgId) throw notFound('Organization');
    const [org, membership] = await Promise.all([
      this.dataSource.manager.findOneBy(Organization, { id: orgId }),
      this.dataSource.manager.findOneBy(Membership, { orgId, userId: principal.userId }),
    ]);
    if (!org || !membership) throw notFound('Organization');
    return { org, membership };
  }
}
