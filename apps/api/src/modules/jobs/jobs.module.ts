import { Module } from '@nestjs/common';
import { BenchmarksModule } from '../benchmarks/benchmarks.module.js';
import { BillingModule } from '../billing/billing.module.js';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { EstimatesModule } from '../estimates/estimates.module.js';
import { ModerationModule } from '../moderation/moderation.module.js';
import { OffersModule } from '../offers/offers.module.js';
import { OffersService } from '../offers/offers.service.js';
import { ProviderAccountsModule } from '../provider-accounts/provider-accounts.module.js';
import { AttemptEventsConsumer } from './attempt-events.consumer.js';
import { AttemptLifecycle } from './attempt-lifecycle.service.js';
import { BillingBinding, ComputeBinding, DatasetBinding, EstimateBinding, ModerationBinding, StorageBinding } from './jobs.bindings.js';
import { JobsController } from './jobs.controller.js';
import { BILLING_PORT, COMPUTE_PORT, DATASET_PORT, ESTIMATE_PORT, MODERATION_PORT, OFFER_PORT, STORAGE_PORT } from './jobs.ports.js';
import { JobsService } from './jobs.service.js';
import { QueueSignal } from './queue-signal.js';
import { SchedulerService } from './scheduler.service.js';

@Module({
  imports: [DatasetsModule, EstimatesModule, ModerationModule, OffersModule, BillingModule, ProviderAccountsModule, BenchmarksModule],
  controllers: [JobsController],
  providers: [
    JobsService,
    QueueSignal,
    SchedulerService,
    AttemptLifecycle,
    AttemptEventsConsumer,
    { provide: DATASET_PORT, useClass: DatasetBinding },
    { provide: MODERATION_PORT, useClass: ModerationBinding },
    { provide: ESTIMATE_PORT, useClass: EstimateBinding },
    { provide: OFFER_PORT, useExisting: OffersService },
    { provide: COMPUTE_PORT, useClass: ComputeBinding },
    { provide: BILLING_PORT, useClass: BillingBinding },
    { provide: STORAGE_PORT, useClass: StorageBinding },
  ],
  exports: [JobsService, SchedulerService, AttemptLifecycle],
})
export class JobsModule {}
