import { Module } from '@nestjs/common';
import { BenchmarksModule } from '../benchmarks/benchmarks.module.js';
import { OffersModule } from '../offers/offers.module.js';
import { EstimateOfferSource } from './estimate-offers.source.js';
import { EstimatesController } from './estimates.controller.js';
import { EstimatesRepository } from './estimates.repository.js';
import { EstimatesScheduler } from './estimates.scheduler.js';
import { EstimatesService } from './estimates.service.js';

/** POST /v1/estimates and stored quotes. */
@Module({
  imports: [BenchmarksModule, OffersModule],
  controllers: [EstimatesController],
  providers: [EstimatesService, EstimatesRepository, EstimateOfferSource, EstimatesScheduler],
  exports: [EstimatesService, EstimatesRepository],
})
export class EstimatesModule {}
