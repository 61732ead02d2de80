import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../clock/clock.js';
import { LOGGER } from '../logging/logger.js';
import { NatsService } from '../nats/nats.service.js';
import { OutboxMessage } from './outbox-message.entity.js';

const encoder = new TextEncoder();

/**
 * Messages are written in the transaction that causes them and published after commit: nothing is
 * published for a rolled-back change, and nothing committed is lost if the process dies before
 * publishing (the sweep picks it up). JetStream messages carry the row id as their de-duplication
 * id, so a re-publish after a crash is stored once.
 */
@Injectable()
export class OutboxService implements OnApplicationShutdown {
  private stopped = false;
  private sweeping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async enqueue(manager: EntityManager, subject: string, payload: Record<string, unknown>, options: { jetstream?: boolean } = {}): Promise<string> {
    const id = this.newId();
    const row: OutboxMessage = { id, subject, payload, jetstream: options.jetstream ?? false, createdAt: this.clock.now(), publishedAt: null, attempts: 0 };
    // TypeORM's insert type cannot express a jsonb Record column; the row is fully typed above.
    await manager.insert(OutboxMessage, row as never);
    return id;
  }

  /** Many messages in one statement (a scheduler round's events). */
  async enqueueMany(manager: EntityManager, messages: readonly { subject: string; payload: Record<string, unknown>; jetstream?: boolean }[]): Promise<void> {
    if (messages.length === 0) return;
    const createdAt = this.clock.now();
    // Plain SQL: building a multi-row INSERT through TypeORM costs more CPU than the statement itself.
    await manager.query(
      `INSERT INTO outbox_messages (id, subject, payload, jetstream, created_at, published_at, attempts)
       SELECT m.id, m.subject, m.payload, m.jetstream, $5, NULL, 0 FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::bool[]) AS m(id, subject, payload, jetstream)`,
      [messages.map(() => this.newId()), messages.map((m) => m.subject), messages.map((m) => JSON.stringify(m.payload)), messages.map((m) => m.jetstream ?? false), createdAt],
    );
  }

  @Interval('outbox', 500)
  async sweep(): Promise<number> {
    if (!this.config.SCHEDULER_ENABLED || this.stopped || this.sweeping) return 0;
    this.sweeping = true;
    try {
      // Keep going while batches come back full: a busy scheduler writes hundreds of events a second.
      let published = 0;
      for (let batch = 0; batch < 20 && !this.stopped; batch += 1) {
        const sent = await this.publishPending(500);
        published += sent;
        if (sent < 500) break;
      }
      return published;
    } finally {
      this.sweeping = false;
    }
  }

  /** Publishes up to `limit` pending messages in order; returns how many went out. */
  async publishPending(limit = 200): Promise<number> {
    // Claim under SKIP LOCKED in a short transaction, publish outside it, then mark published.
    const claimed: OutboxMessage[] = await this.dataSource.transaction(async (manager) => {
      const rows: OutboxMessage[] = await manager
        .createQueryBuilder(OutboxMessage, 'o')
        .where('o.published_at IS NULL AND o.attempts < 20')
        .orderBy('o.created_at', 'ASC')
        .limit(limit)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      if (rows.length > 0) {
        await manager.query('UPDATE outbox_messages SET attempts = attempts + 1 WHERE id = ANY($1)', [rows.map((r) => r.id)]);
      }
      return rows;
    });
    const published: string[] = [];
    for (const message of claimed) {
      try {
        const data = encoder.encode(JSON.stringify(message.payload));
        if (message.jetstream) await this.nats.jetstream.publish(message.subject, data, { msgID: message.id });
        else this.nats.connection.publish(message.subject, data);
        published.push(message.id);
      } catch (error) {
        this.logger.warn({ err: error, subject: message.subject }, 'outbox publish failed; will retry');
      }
    }
    if (published.length > 0) {
      await this.dataSource.query('UPDATE outbox_messages SET published_at = $2 WHERE id = ANY($1)', [published, this.clock.now()]);
    }
    return published.length;
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }
}
