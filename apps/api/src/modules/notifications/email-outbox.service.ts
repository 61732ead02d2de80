import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { EmailOutbox } from './entities/email-outbox.entity.js';

export interface Email {
  to: string;
  subject: string;
  body: string;
}

/** Where emails go once committed. The console sender logs who and what, never secrets in links. */
export interface EmailSender {
  send(email: Email): Promise<void>;
}

export const EMAIL_SENDER = Symbol('EMAIL_SENDER');

export class ConsoleEmailSender implements EmailSender {
  constructor(private readonly logger: Logger) {}

  async send(email: Email): Promise<void> {
    this.logger.info({ to: email.to, subject: email.subject }, 'email sent (console sender)');
  }
}

/**
 * Emails are written to the outbox in the transaction that causes them and sent after commit by a
 * sweep that claims rows with SKIP LOCKED, so every replica can run it and none sends twice.
 */
@Injectable()
export class EmailOutboxService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(EMAIL_SENDER) private readonly sender: EmailSender,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async enqueue(manager: EntityManager, email: Email): Promise<void> {
    await manager.insert(EmailOutbox, { id: this.newId(), toAddress: email.to, subject: email.subject, body: email.body, createdAt: this.clock.now(), sentAt: null, attempts: 0 });
  }

  @Interval('email-outbox', 2000)
  async sweep(): Promise<number> {
    if (!this.config.SCHEDULER_ENABLED) return 0;
    return this.sendPending();
  }

  /** Sends up to `limit` pending emails; returns how many went out. */
  async sendPending(limit = 50): Promise<number> {
    let sent = 0;
    await this.dataSource.transaction(async (manager) => {
      const rows: EmailOutbox[] = await manager
        .createQueryBuilder(EmailOutbox, 'e')
        .where('e.sent_at IS NULL AND e.attempts < 10')
        .orderBy('e.created_at', 'ASC')
        .limit(limit)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      for (const row of rows) {
        try {
          await this.sender.send({ to: row.toAddress, subject: row.subject, body: row.body });
          await manager.update(EmailOutbox, { id: row.id }, { sentAt: this.clock.now(), attempts: row.attempts + 1 });
          sent += 1;
        } catch (error) {
          this.logger.warn({ err: error, emailId: row.id }, 'email send failed; will retry');
          await manager.update(EmailOutbox, { id: row.id }, { attempts: row.attempts + 1 });
        }
      }
    });
    return sent;
  }
}
