import { Module } from '@nestjs/common';
import { NodesModule } from '../nodes/nodes.module.js';
import { ProviderAccountsController } from './provider-accounts.controller.js';
import { ProviderAccountsService } from './provider-accounts.service.js';
import { ProvidersService } from './providers.service.js';

/** Cloud provider credentials (sealed, admin-managed) and the configured compute providers. */
@Module({
  imports: [NodesModule],
  controllers: [ProviderAccountsController],
  providers: [ProvidersService, ProviderAccountsService],
  exports: [ProvidersService, NodesModule],
})
export class ProviderAccountsModule {}
