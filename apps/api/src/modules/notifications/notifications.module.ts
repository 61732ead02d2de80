import { Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../../core/logging/logger.js';
import { ConsoleEmailSender, EMAIL_SENDER, EmailOutboxService } from './email-outbox.service.js';

@Global()
@Module({
  providers: [EmailOutboxService, { provide: EMAIL_SENDER, inject: [LOGGER], useFactory: (logger: Logger) => new ConsoleEmailSender(logger) }],
  exports: [EmailOutboxService],
})
export class NotificationsModule {}
