import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CoreModule, type CoreOptions } from './core/core.module.js';
import { dataSourceOptions } from './core/database/data-source.js';
import { HealthModule } from './core/health/health.module.js';
import { ApiKeysModule } from './modules/api-keys/api-keys.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { BillingModule } from './modules/billing/billing.module.js';
import { BenchmarksModule } from './modules/benchmarks/benchmarks.module.js';
import { EstimatesModule } from './modules/estimates/estimates.module.js';
import { NodesModule } from './modules/nodes/nodes.module.js';
import { OffersModule } from './modules/offers/offers.module.js';
import { ProviderAccountsModule } from './modules/provider-accounts/provider-accounts.module.js';
import { NotificationsModule } from './modules/notifications/notifications.module.js';
import { OrgsModule } from './modules/orgs/orgs.module.js';
import { UsersModule } from './modules/users/users.module.js';
import { StorageModule } from './core/storage/storage.module.js';
import { DatasetsModule } from './modules/datasets/datasets.module.js';
import { ModerationModule } from './modules/moderation/moderation.module.js';
import { OutboxModule } from './core/outbox/outbox.module.js';
import { JobsModule } from './modules/jobs/jobs.module.js';
import { DisputesModule } from './modules/disputes/disputes.module.js';
import { AdminModule } from './modules/admin/admin.module.js';
import { JobOutcomesModule } from './modules/jobs/job-outcomes.module.js';
import { PrivacyModule } from './modules/privacy/privacy.module.js';
import { AttemptAccessModule } from './modules/attempt-access/attempt-access.module.js';

@Module({})
export class AppModule {
  static forRoot(options: CoreOptions): DynamicModule {
    const { config } = options;
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(options),
        TypeOrmModule.forRoot(dataSourceOptions(config.DATABASE_URL, config.DATABASE_POOL_SIZE)),
        ScheduleModule.forRoot(),
        ThrottlerModule.forRoot({
          throttlers: [
            { name: 'auth', ttl: 60_000, limit: config.LOGIN_RATE_LIMIT_PER_MINUTE },
            { name: 'keys', ttl: 60_000, limit: config.KEY_CREATION_RATE_LIMIT_PER_MINUTE },
          ],
        }),
        AuditModule,
        OutboxModule,
        JobOutcomesModule,
        NotificationsModule,
        HealthModule,
        AuthModule,
        UsersModule,
        StorageModule,
        ModerationModule,
        DatasetsModule,
        OrgsModule,
        ApiKeysModule,
        BillingModule,
        BenchmarksModule,
        EstimatesModule,
        NodesModule,
        ProviderAccountsModule,
        OffersModule,
        JobsModule,
        DisputesModule,
        AdminModule,
        PrivacyModule,
        AttemptAccessModule,
      ],
    };
  }
}
