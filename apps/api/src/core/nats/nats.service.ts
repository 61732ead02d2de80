import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { LOGGER } from '../logging/logger.js';

export type StreamDefinition = Pick<StreamConfig, 'name' | 'subjects'> & Partial<StreamConfig>;

/** The JetStream streams the API needs, provided by the modules that own them. */
export const NATS_STREAMS = Symbol('NATS_STREAMS');

/**
 * One NATS connection per process. Streams are created at boot, idempotently (an existing stream
 * is updated to the declared subjects); shutdown drains so in-flight messages are not lost.
 */
@Injectable()
export class NatsService implements OnModuleInit, OnApplicationShutdown {
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private jsm?: JetStreamManager;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(NATS_STREAMS) private readonly streams: StreamDefinition[],
  ) {}

  get connection(): NatsConnection {
    if (!this.nc) throw new Error('NATS is not connected yet');
    return this.nc;
  }

  get jetstream(): JetStreamClient {
    if (!this.js) throw new Error('NATS is not connected yet');
    return this.js;
  }

  get manager(): JetStreamManager {
    if (!this.jsm) throw new Error('NATS is not connected yet');
    return this.jsm;
  }

  /** Subject prefix of this deployment ('' in production, one per test run). */
  get prefix(): string {
    return this.config.NATS_SUBJECT_PREFIX;
  }

  async onModuleInit(): Promise<void> {
    this.nc = await connect({
      servers: this.config.NATS_URL,
      name: 'anneal-api',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
    this.jsm = await jetstreamManager(this.nc);
    this.js = jetstream(this.nc);
    for (const stream of this.streams) await this.ensureStream(stream);
    this.logger.info({ streams: this.streams.map((s) => s.name) }, 'NATS connected');
  }

  private async ensureStream(definition: StreamDefinition): Promise<void> {
    const manager = this.manager;
    try {
      const info = await manager.streams.info(definition.name);
      const subjects = [...(definition.subjects ?? [])].sort();
      if (JSON.stringify([...(info.config.subjects ?? [])].sort()) !== JSON.stringify(subjects)) {
        await manager.streams.update(definition.name, { ...definition });
      }
    } catch (error) {
      if ((error as { code?: string; message?: string }).message?.includes('stream not found') || (error as { code?: string }).code === '404') {
        await manager.streams.add({ ...definition });
        return;
      }
      throw error;
    }
  }

  /** True when the server answers a round trip within the timeout. */
  async ping(timeoutMs = 1000): Promise<boolean> {
    if (!this.nc || this.nc.isClosed()) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.nc.flush().then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) {
      await this.nc.drain().catch((error: unknown) => this.logger.warn({ err: error }, 'NATS drain failed'));
    }
  }
}
