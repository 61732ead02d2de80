import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { benchmarkSamplesStreamName } from '../../core/nats/streams.js';
import { BenchmarksService } from './benchmarks.service.js';

/** One durable consumer shared by every replica: each sample is handled by one of them. */
export const BENCHMARK_SAMPLES_CONSUMER = 'api-benchmark-samples';

/**
 * Reads `<prefix>.anneal.benchmarks.samples` from its JetStream stream. A sample is acked once it
 * is merged (or found to be a replay, simulated, or rejected); a storage failure naks it for a
 * retry a few seconds later.
 */
@Injectable()
export class BenchmarkSamplesConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;

  constructor(
    private readonly nats: NatsService,
    private readonly benchmarks: BenchmarksService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const stream = benchmarkSamplesStreamName(this.nats.prefix);
    try {
      await this.nats.manager.consumers.info(stream, BENCHMARK_SAMPLES_CONSUMER);
    } catch {
      await this.nats.manager.consumers.add(stream, {
        durable_name: BENCHMARK_SAMPLES_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        max_ack_pending: 256,
      });
    }
    const consumer = await this.nats.jetstream.consumers.get(stream, BENCHMARK_SAMPLES_CONSUMER);
    this.messages = await consumer.consume({ max_messages: 64 });
    const messages = this.messages;
    this.loop = (async () => {
      for await (const message of messages) {
        try {
          await this.benchmarks.ingestMessage(message.data);
          message.ack();
        } catch (error) {
          this.logger.warn({ err: error }, 'benchmark sample could not be stored; retrying later');
          message.nak(5_000);
        }
      }
    })().catch((error: unknown) => this.logger.error({ err: error }, 'benchmark sample consumer stopped'));
  }

  async onModuleDestroy(): Promise<void> {
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }
}
