import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { LOGGER } from '../../core/logging/logger.js';
import { CloudNodesService } from './cloud-nodes.service.js';
import { DbCommunityNodeSource } from './community-node-source.js';
import { NodesController } from './nodes.controller.js';
import { NodesConsumer } from './nodes.consumer.js';
import { NodesRepository } from './nodes.repository.js';
import { NodesService } from './nodes.service.js';
import { PLATFORM_KEYS, platformKeysFromConfig } from './platform-keys.js';
import { ReliabilityService } from './reliability.service.js';

const platformKeys = {
  provide: PLATFORM_KEYS,
  inject: [APP_CONFIG, LOGGER],
  useFactory: (config: AppConfig, logger: Logger) => platformKeysFromConfig(config, logger),
};

/** Community nodes: registration, heartbeats and live state, reliability, the provider console; cloud machines joining as nodes of their attempt. */
@Module({
  controllers: [NodesController],
  providers: [platformKeys, NodesRepository, NodesConsumer, ReliabilityService, DbCommunityNodeSource, CloudNodesService, NodesService],
  exports: [PLATFORM_KEYS, NodesConsumer, ReliabilityService, DbCommunityNodeSource, CloudNodesService, NodesService],
})
export class NodesModule {}
