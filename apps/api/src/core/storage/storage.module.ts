import { Global, Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { LOGGER } from '../logging/logger.js';
import { ObjectStorage, storageSettingsFromConfig } from './object-storage.js';

/**
 * The object store, for every module. When the deployment names a store (S3_ENDPOINT or S3
 * credentials) the bucket is checked and created at boot; otherwise, and after a failed check, it
 * is checked on first use, so a process that never touches storage boots without one.
 */
@Global()
@Module({
  providers: [
    {
      provide: ObjectStorage,
      inject: [APP_CONFIG, LOGGER],
      useFactory: (config: AppConfig, logger: Logger) => new ObjectStorage(storageSettingsFromConfig(config), logger.child({ component: 'storage' })),
    },
  ],
  exports: [ObjectStorage],
})
export class StorageModule implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    @Inject(ObjectStorage) private readonly storage: ObjectStorage,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.storage.configured) return;
    try {
      await this.storage.ensureBucket();
    } catch (error) {
      this.logger.error({ err: error, bucket: this.storage.bucket }, 'object storage unavailable at boot; will retry on first use');
    }
  }

  onModuleDestroy(): void {
    this.storage.close();
  }
}
