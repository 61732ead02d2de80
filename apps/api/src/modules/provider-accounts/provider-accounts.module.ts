import { Module } from '@nestjs/common';
import { NodesModule } from '../nodes/nodes.module.js';
import { ProvidersService } from './providers.service.js';

/** Cloud provider credentials (sealed) and the configured compute providers. */
@Module({
  imports: [NodesModule],
  providers: [ProvidersService],
  exports: [ProvidersService, NodesModule],
})
export class ProviderAccountsModule {}
