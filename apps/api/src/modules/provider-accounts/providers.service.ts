import {
  CommunityProvider,
  GcpProvider,
  ProviderRegistry,
  RunpodProvider,
  SecretBox,
  gcpCredentialsSchema,
  type ComputeProvider,
  type GcpCredentials,
  type ProviderKind,
} from '@anneal/providers';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { SECRET_BOX } from '../../core/crypto/secret-box.provider.js';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { DbCommunityNodeSource } from '../nodes/community-node-source.js';
import { PLATFORM_KEYS, type PlatformKeys } from '../nodes/platform-keys.js';
import { ProviderCredential } from './entities/provider-credential.entity.js';

/** Credentials given as a service-account key file ({client_email, private_key}) or in the adapter's form. */
export function parseGcpCredentials(json: unknown): GcpCredentials {
  const value = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  if (value && typeof value === 'object' && 'client_email' in value && 'private_key' in value) {
    const file = value as { client_email: string; private_key: string };
    return gcpCredentialsSchema.parse({ type: 'service_account', clientEmail: file.client_email, privateKey: file.private_key });
  }
  return gcpCredentialsSchema.parse(value);
}

/**
 * The configured providers as the port's adapters: community always; GCP and RunPod when
 * configured through the environment or by an admin (credentials sealed in `provider_credentials`;
 * stored ones win over the environment). The scheduler provisions and terminates through
 * `registry()`; offers list through it. Rebuilt when an admin changes credentials.
 */
@Injectable()
export class ProvidersService {
  private built: Promise<ProviderRegistry> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsService,
    private readonly nodes: DbCommunityNodeSource,
    @Inject(PLATFORM_KEYS) private readonly platformKeys: PlatformKeys,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  registry(): Promise<ProviderRegistry> {
    this.built ??= this.build().catch((error: unknown) => {
      this.built = null;
      throw error;
    });
    return this.built;
  }

  async get(kind: ProviderKind): Promise<ComputeProvider | undefined> {
    return (await this.registry()).get(kind);
  }

  /** The community adapter (always configured). */
  async community(): Promise<CommunityProvider> {
    return (await this.get('community')) as CommunityProvider;
  }

  /** Drops the built adapters; the next call rebuilds them from the current credentials. */
  reload(): void {
    this.built = null;
  }

  private async build(): Promise<ProviderRegistry> {
    const providers: ComputeProvider[] = [
      new CommunityProvider(
        { subjectPrefix: this.nats.prefix, platformSeed: this.platformKeys.seed },
        { nats: this.nats.connection, nodes: this.nodes, now: () => this.clock.now() },
      ),
    ];
    const stored = new Map<string, ProviderCredential>();
    for (const row of await this.dataSource.manager.find(ProviderCredential)) stored.set(row.kind, row);
    const gcp = this.gcp(stored.get('gcp'));
    if (gcp) providers.push(gcp);
    const runpod = this.runpod(stored.get('runpod'));
    if (runpod) providers.push(runpod);
    this.logger.info({ providers: providers.map((p) => p.kind) }, 'compute providers configured');
    if (providers.some((provider) => provider.kind !== 'community') && !this.config.PUBLIC_API_URL) {
      this.logger.warn('a cloud provider is configured but PUBLIC_API_URL is not: its machines have no API to join, so every cloud attempt fails to provision');
    }
    return new ProviderRegistry(providers);
  }

  private open(row: ProviderCredential): unknown {
    return JSON.parse(this.secretBox.open(row.sealedCredentials)) as unknown;
  }

  private gcp(row: ProviderCredential | undefined): GcpProvider | null {
    try {
      if (row) {
        return new GcpProvider({ ...(row.config as object), credentials: parseGcpCredentials(this.open(row)) } as ConstructorParameters<typeof GcpProvider>[0]);
      }
      if (!this.config.GCP_PROJECT || !this.config.GCP_ZONES || !this.config.GCP_CREDENTIALS_JSON) return null;
      return new GcpProvider({
        projectId: this.config.GCP_PROJECT,
        zones: this.config.GCP_ZONES.split(',').map((zone) => zone.trim()).filter(Boolean),
        credentials: parseGcpCredentials(this.config.GCP_CREDENTIALS_JSON),
      });
    } catch (error) {
      // Never log the error object itself: it may quote the credentials.
      this.logger.error({ provider: 'gcp', reason: error instanceof Error ? error.name : 'error' }, 'GCP is configured but its settings are invalid; GCP is off');
      return null;
    }
  }

  private runpod(row: ProviderCredential | undefined): RunpodProvider | null {
    try {
      if (row) {
        const credentials = this.open(row) as { apiKey?: unknown };
        return new RunpodProvider({ ...(row.config as object), apiKey: String(credentials.apiKey ?? '') } as ConstructorParameters<typeof RunpodProvider>[0]);
      }
      if (!this.config.RUNPOD_API_KEY) return null;
      return new RunpodProvider({
        apiKey: this.config.RUNPOD_API_KEY,
        ...(this.config.RUNPOD_API_URL ? { restBaseUrl: this.config.RUNPOD_API_URL } : {}),
        podGpuTypes: this.config.RUNPOD_POD_GPU_TYPES ? (JSON.parse(this.config.RUNPOD_POD_GPU_TYPES) as never) : [],
      });
    } catch (error) {
      this.logger.error({ provider: 'runpod', reason: error instanceof Error ? error.name : 'error' }, 'RunPod is configured but its settings are invalid; RunPod is off');
      return null;
    }
  }
}
