import { Module } from '@nestjs/common';
import { BillingModule } from '../billing/billing.module.js';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { NodesModule } from '../nodes/nodes.module.js';
import { AccountDeletionService } from './account-deletion.service.js';
import { DataExportService } from './data-export.service.js';
import { PrivacyController } from './privacy.controller.js';
import { RetentionScheduler } from './retention.scheduler.js';
import { RetentionService } from './retention.service.js';

/** Data lifecycle and the user's rights: retention crons, personal data export, account deletion (docs/PRIVACY.md). */
@Module({
  imports: [JobsModule, DatasetsModule, BillingModule, NodesModule],
  controllers: [PrivacyController],
  providers: [RetentionService, RetentionScheduler, DataExportService, AccountDeletionService],
  exports: [RetentionService],
})
export class PrivacyModule {}
