import { Inject, Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { forbidden, notFound } from '../../core/errors/app-error.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthInvalidationService } from '../auth/auth-invalidation.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import type { Scope } from '../auth/scopes.js';
import { TokenService } from '../auth/token.service.js';
import { ApiKey } from './entities/api-key.entity.js';

function describe(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

/** API keys: shown once, stored as a keyed hash with a visible prefix, scoped, revocable. */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly invalidation: AuthInvalidationService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  async list(principal: Principal) {
    const keys = await this.dataSource.manager.find(ApiKey, { where: { orgId: principal.orgId }, order: { createdAt: 'DESC' } });
    return keys.map(describe);
  }

  async create(principal: Principal, name: string, scopes: Scope[], meta: RequestMeta) {
    const now = this.clock.now();
    // "ak_" + 8 visible characters, then the secret part; the whole string is hashed.
    const secret = this.tokens.randomToken('', 32).replace(/[-_]/g, '').slice(0, 40);
    const prefix = `ak_${this.tokens.randomToken('', 6).replace(/[-_]/g, 'x').slice(0, 8)}`;
    const plain = `${prefix}_${secret}`;
    const key: ApiKey = {
      id: this.newId(),
      orgId: principal.orgId,
      createdBy: principal.userId,
      name: name.trim(),
      prefix,
      secretHash: this.tokens.hashSecret(plain),
      scopes: [...new Set(scopes)].sort(),
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(ApiKey, key);
      await this.audit.record({ actor: principal, action: 'api_key.created', target: { type: 'api_key', id: key.id }, meta, details: { scopes: key.scopes, prefix } }, manager);
    });
    return { ...describe(key), key: plain };
  }

  async revoke(principal: Principal, id: string, meta: RequestMeta) {
    const key = await this.dataSource.manager.findOneBy(ApiKey, { id, orgId: principal.orgId });
    if (!key) throw notFound('API key');
    if (key.createdBy !== principal.userId && principal.orgRole === 'member') throw forbidden('Members can revoke only the keys they created.');
    if (key.revokedAt) return describe(key);
    const now = this.clock.now();
    await this.dataSource.transaction(async (manager) => {
      await manager.update(ApiKey, { id, revokedAt: IsNull() }, { revokedAt: now });
      await this.audit.record({ actor: principal, action: 'api_key.revoked', target: { type: 'api_key', id }, meta }, manager);
    });
    await this.invalidation.announce({ kind: 'api_key', apiKeyId: id });
    return describe({ ...key, revokedAt: now });
  }
}
