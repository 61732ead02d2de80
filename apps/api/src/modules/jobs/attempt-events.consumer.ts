import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { allAttemptEventsSubject, attemptEventsStreamSpec } from '@anneal/providers';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { HttpMetrics } from '../../core/http/http-metrics.js';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { AttemptLifecycle } from './attempt-lifecycle.service.js';
import { COMPUTE_PORT, type ComputePort } from './jobs.ports.js';

const CONSUMER = 'anneal-api-attempt-events';
/**
 * Attempt events applied at once (each attempt's own events stay in order). The events in flight
 * are written together, a tick at a time (one read of their attempts, one transaction per kind),
 * so this bounds a batch rather than the connections used.
 */
const MAX_IN_FLIGHT = 256;

/**
 * Agent → API attempt events, from JetStream through one durable consumer shared by every
 * replica (each event is handled by one of them). Each message is verified against the sending
 * node's key before it touches a job; forged ones are counted and dropped.
 */
@Injectable()
export class AttemptEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private messages?: ConsumerMessages;
  private running?: Promise<void>;
  private readonly rejected: Counter<'reason'>;

  constructor(
    private readonly nats: NatsService,
    private readonly lifecycle: AttemptLifecycle,
    @Inject(COMPUTE_PORT) private readonly compute: ComputePort,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: HttpMetrics,
  ) {
    this.rejected = new Counter({
      name: 'anneal_attempt_events_rejected_total',
      help: 'Attempt events dropped: forged, malformed, or for no known attempt',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const stream = attemptEventsStreamSpec(this.nats.prefix).name;
    await this.nats.manager.consumers
      .add(stream, { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: allAttemptEventsSubject(this.nats.prefix), max_deliver: 20, ack_wait: 30_000_000_000 })
      .catch(async (error: unknown) => {
        if (!String((error as Error).message).includes('already')) throw error;
      });
    const consumer = await this.nats.jetstream.consumers.get(stream, CONSUMER);
    this.messages = await consumer.consume({ max_messages: MAX_IN_FLIGHT * 2 });
    this.running = this.run(this.messages);
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    // Events of different attempts are applied concurrently (up to MAX_IN_FLIGHT); events of one
    // attempt stay in the order JetStream delivered them, chained one after another.
    const chains = new Map<string, Promise<void>>();
    const inFlight = new Set<Promise<void>>();
    let slotFreed: (() => void) | null = null;
    for await (const message of messages) {
      while (inFlight.size >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (slotFreed = resolve));
      const key = message.subject;
      const previous = chains.get(key) ?? Promise.resolve();
      const current = previous.then(() => this.apply(message));
      chains.set(key, current);
      const tracked = current.finally(() => {
        inFlight.delete(tracked);
        if (chains.get(key) === current) chains.delete(key);
        slotFreed?.();
        slotFreed = null;
      });
      inFlight.add(tracked);
    }
    await Promise.allSettled(inFlight);
  }

  private async apply(message: JsMsg): Promise<void> {
    try {
      const opened = await this.compute.openAttemptEvent(message.subject, message.data);
      if (!opened.ok) {
        this.rejected.inc({ reason: opened.reason });
        message.term();
        return;
      }
      await this.lifecycle.handle(opened.event);
      message.ack();
    } catch (error) {
      this.logger.error({ err: error, subject: message.subject }, 'attempt event failed; redelivering');
      message.nak(1000);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.messages?.close();
    await this.running?.catch(() => undefined);
  }
}
