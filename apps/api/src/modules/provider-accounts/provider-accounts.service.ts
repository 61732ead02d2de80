import { GcpProvider, RunpodProvider, SecretBox } from '@anneal/providers';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { SECRET_BOX } from '../../core/crypto/secret-box.provider.js';
import { badRequest } from '../../core/errors/app-error.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { ProviderCredential } from './entities/provider-credential.entity.js';
import { ProvidersService, parseGcpCredentials } from './providers.service.js';

export const CLOUD_PROVIDER_KINDS = ['gcp', 'runpod'] as const;
export type CloudProviderKind = (typeof CLOUD_PROVIDER_KINDS)[number];

/**
 * Cloud provider credentials set by admins: validated by building the adapter, sealed with the
 * SecretBox, stored in `provider_credentials`, never returned (only whether and when they were set).
 */
@Injectable()
export class ProviderAccountsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly providers: ProvidersService,
    private readonly audit: AuditService,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list() {
    const stored = new Map((await this.dataSource.manager.find(ProviderCredential)).map((row) => [row.kind, row]));
    const registry = await this.providers.registry();
    const fromEnv: Record<CloudProviderKind, boolean> = {
      gcp: Boolean(this.config.GCP_PROJECT && this.config.GCP_ZONES && this.config.GCP_CREDENTIALS_JSON),
      runpod: Boolean(this.config.RUNPOD_API_KEY),
    };
    return CLOUD_PROVIDER_KINDS.map((kind) => {
      const row = stored.get(kind);
      return {
        kind,
        active: registry.get(kind) !== undefined,
        source: row ? 'stored' : fromEnv[kind] ? 'environment' : null,
        config: row?.config ?? null,
        updatedAt: row?.updatedAt.toISOString() ?? null,
      };
    });
  }

  async set(principal: Principal, kind: CloudProviderKind, credentials: Record<string, unknown>, config: Record<string, unknown>, meta: RequestMeta) {
    this.validate(kind, credentials, config);
    const now = this.clock.now();
    const row: ProviderCredential = { kind, sealedCredentials: this.secretBox.seal(JSON.stringify(credentials)), config, updatedAt: now, updatedBy: principal.userId };
    await this.dataSource.transaction(async (manager) => {
      await manager.upsert(ProviderCredential, row as never, ['kind']);
      await this.audit.record({ actor: principal, action: 'provider.credentials_set', target: { type: 'provider', id: kind }, meta, details: { configKeys: Object.keys(config).sort() } }, manager);
    });
    this.providers.reload();
    return (await this.list()).find((entry) => entry.kind === kind)!;
  }

  async remove(principal: Principal, kind: CloudProviderKind, meta: RequestMeta): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.delete(ProviderCredential, { kind });
      await this.audit.record({ actor: principal, action: 'provider.credentials_removed', target: { type: 'provider', id: kind }, meta }, manager);
    });
    this.providers.reload();
  }

  /** Builds the adapter once to check the settings; the error never quotes the credentials. */
  private validate(kind: CloudProviderKind, credentials: Record<string, unknown>, config: Record<string, unknown>): void {
    try {
      if (kind === 'gcp') new GcpProvider({ ...config, credentials: parseGcpCredentials(credentials) } as ConstructorParameters<typeof GcpProvider>[0]);
      else new RunpodProvider({ ...config, apiKey: String(credentials.apiKey ?? '') } as ConstructorParameters<typeof RunpodProvider>[0]);
    } catch (error) {
      const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
      const fields = (issues ?? []).map((issue) => ({ field: issue.path.map(String).join('.') || '(settings)', message: issue.message.slice(0, 200) }));
      throw badRequest(
        'provider_settings_invalid',
        `These ${kind === 'gcp' ? 'GCP' : 'RunPod'} settings are not valid${fields.length > 0 ? `: ${fields.slice(0, 3).map((f) => `${f.field} ${f.message}`).join('; ')}` : ''}.`,
        { fields },
      );
    }
  }
}
