import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { PasswordService } from '../modules/auth/password.service.js';
import { TokenService } from '../modules/auth/token.service.js';
import { TotpService } from '../modules/auth/totp.service.js';
import { CLOCK, ID_GENERATOR, newId, systemClock, type Clock } from './clock/clock.js';
import { SECRET_BOX, secretBoxFromConfig } from './crypto/secret-box.provider.js';
import { HttpMetrics } from './http/http-metrics.js';
import { LOGGER } from './logging/logger.js';
import { NATS_STREAMS, NatsService, type StreamDefinition } from './nats/nats.service.js';

export interface CoreOptions {
  config: AppConfig;
  logger: Logger;
  metrics: HttpMetrics;
  clock?: Clock;
  streams: StreamDefinition[];
}

/** What every module may inject: configuration, logger, clock, ids, secrets, metrics, NATS. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(options: CoreOptions): DynamicModule {
    const providers = [
      { provide: APP_CONFIG, useValue: options.config },
      { provide: LOGGER, useValue: options.logger },
      { provide: CLOCK, useValue: options.clock ?? systemClock },
      { provide: ID_GENERATOR, useValue: newId },
      { provide: SECRET_BOX, useValue: secretBoxFromConfig(options.config) },
      { provide: HttpMetrics, useValue: options.metrics },
      { provide: NATS_STREAMS, useValue: options.streams },
      { provide: TokenService, useValue: new TokenService(options.config.AUTH_TOKEN_SECRET) },
      { provide: PasswordService, useValue: new PasswordService() },
      { provide: TotpService, useValue: new TotpService() },
      NatsService,
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => ('provide' in p ? p.provide : p)) };
  }
}
