import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { returningRows } from '../../core/database/returning-rows.js';
import { ApiKey } from '../api-keys/entities/api-key.entity.js';
import { Membership } from '../orgs/entities/membership.entity.js';
import { User } from '../users/entities/user.entity.js';
import { RecoveryCode } from './entities/recovery-code.entity.js';
import { Session } from './entities/session.entity.js';

export interface SessionWithUser {
  session: Session;
  user: User;
}

/** The only place the auth feature speaks TypeORM. */
@Injectable()
export class AuthRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  findUserByEmail(email: string): Promise<User | null> {
    return this.dataSource.manager.findOneBy(User, { email: email.toLowerCase() });
  }

  findUser(id: string, manager: EntityManager = this.dataSource.manager): Promise<User | null> {
    return manager.findOneBy(User, { id });
  }

  async recordFailedLogin(userId: string, lockedUntil: (failures: number) => Date | null): Promise<{ failures: number; lockedUntil: Date | null }> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = returningRows<{ failed_login_count: number }>(
        await manager.query('UPDATE users SET failed_login_count = failed_login_count + 1 WHERE id = $1 RETURNING failed_login_count', [userId]),
      );
      const failures = row?.failed_login_count ?? 0;
      const until = lockedUntil(failures);
      if (until) await manager.update(User, { id: userId }, { lockedUntil: until });
      return { failures, lockedUntil: until };
    });
  }

  async resetFailedLogins(userId: string): Promise<void> {
    await this.dataSource.manager.update(User, { id: userId }, { failedLoginCount: 0, lockedUntil: null });
  }

  async insertSession(session: Session, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.insert(Session, session);
  }

  async findSessionWithUser(sessionId: string): Promise<SessionWithUser | null> {
    const session = await this.dataSource.manager.findOne(Session, { where: { id: sessionId }, relations: { user: true } });
    if (!session?.user) return null;
    const { user, ...rest } = session;
    return { session: rest as Session, user };
  }

  findSessionByRefreshHash(hash: string): Promise<Session | null> {
    return this.dataSource.manager.findOneBy(Session, { refreshTokenHash: hash });
  }

  findSessionByPreviousRefreshHash(hash: string): Promise<Session | null> {
    return this.dataSource.manager.findOneBy(Session, { previousRefreshTokenHash: hash });
  }

  /** Swaps the refresh token only if it is still the one presented; false means it was already used. */
  async rotateRefreshToken(sessionId: string, oldHash: string, newHash: string, expiresAt: Date): Promise<boolean> {
    const result = await this.dataSource.manager.update(
      Session,
      { id: sessionId, refreshTokenHash: oldHash, revokedAt: IsNull() },
      { refreshTokenHash: newHash, previousRefreshTokenHash: oldHash, expiresAt },
    );
    return (result.affected ?? 0) === 1;
  }

  async revokeSession(sessionId: string, at: Date): Promise<void> {
    await this.dataSource.manager.update(Session, { id: sessionId, revokedAt: IsNull() }, { revokedAt: at });
  }

  async revokeUserSessions(userId: string, at: Date, manager: EntityManager = this.dataSource.manager, exceptSessionId?: string): Promise<void> {
    const query = manager
      .createQueryBuilder()
      .update(Session)
      .set({ revokedAt: at })
      .where('user_id = :userId AND revoked_at IS NULL', { userId });
    if (exceptSessionId) query.andWhere('id <> :exceptSessionId', { exceptSessionId });
    await query.execute();
  }

  findMembership(orgId: string, userId: string): Promise<Membership | null> {
    return this.dataSource.manager.findOneBy(Membership, { orgId, userId });
  }

  async findApiKeyByPrefix(prefix: string): Promise<ApiKey | null> {
    return this.dataSource.manager.findOneBy(ApiKey, { prefix });
  }

  async touchApiKey(id: string, at: Date): Promise<void> {
    await this.dataSource.manager.update(ApiKey, { id }, { lastUsedAt: at });
  }

  async setTotpSecret(userId: string, sealed: string | null, enabledAt: Date | null, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.update(User, { id: userId }, { totpSecretSealed: sealed, totpEnabledAt: enabledAt });
  }

  async replaceRecoveryCodes(manager: EntityManager, userId: string, codes: RecoveryCode[]): Promise<void> {
    await manager.delete(RecoveryCode, { userId });
    if (codes.length > 0) await manager.insert(RecoveryCode, codes);
  }

  /** Marks the code used, atomically: of two concurrent uses, exactly one succeeds. */
  async consumeRecoveryCode(userId: string, codeHash: string, at: Date): Promise<boolean> {
    const result = await this.dataSource.manager.update(RecoveryCode, { userId, codeHash, usedAt: IsNull() }, { usedAt: at });
    return (result.affected ?? 0) === 1;
  }

  async countUnusedRecoveryCodes(userId: string): Promise<number> {
    return this.dataSource.manager.countBy(RecoveryCode, { userId, usedAt: IsNull() });
  }
}
