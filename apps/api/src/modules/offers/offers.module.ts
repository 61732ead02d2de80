import { Module } from '@nestjs/common';
import { ProviderAccountsModule } from '../provider-accounts/provider-accounts.module.js';
import { OffersController } from './offers.controller.js';
import { OffersService } from './offers.service.js';

/** The unified offers across community, GCP and RunPod; the GPU catalog. */
@Module({
  imports: [ProviderAccountsModule],
  controllers: [OffersController],
  providers: [OffersService],
  exports: [OffersService],
})
export class OffersModule {}
