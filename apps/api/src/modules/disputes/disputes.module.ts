import { Module } from '@nestjs/common';
import { BenchmarksModule } from '../benchmarks/benchmarks.module.js';
import { BillingModule } from '../billing/billing.module.js';
import { NodesModule } from '../nodes/nodes.module.js';
import { DisputeEvidenceService } from './dispute-evidence.service.js';
import { DisputesController } from './disputes.controller.js';
import { DisputesService } from './disputes.service.js';

/** Disputes: opening (with frozen evidence and a suggestion), the provider's answer, resolution. */
@Module({
  imports: [BillingModule, BenchmarksModule, NodesModule],
  controllers: [DisputesController],
  providers: [DisputeEvidenceService, DisputesService],
  exports: [DisputesService],
})
export class DisputesModule {}
