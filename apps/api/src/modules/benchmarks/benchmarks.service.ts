import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { addValue, emptyMoments, ingestSample, mergeMoments, type BenchmarkSample, type Moments } from '@anneal/benchmarks';
import { benchmarkSamplesSubject, type BenchmarkSample as ProtocolSample } from '@anneal/providers';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { HttpMetrics } from '../../core/http/http-metrics.js';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { readSampleMessage } from './benchmark-sample-message.js';
import { benchmarkUpdatesSubject, type BenchmarkUpdate } from './benchmark-updates.js';
import { BenchmarksRepository } from './benchmarks.repository.js';

export type SampleOutcome = 'merged' | 'duplicate' | 'simulated' | `rejected_${string}`;

const encoder = new TextEncoder();
/** Provisioning overheads are written at most this often. */
const PROVISIONING_FLUSH_MS = 1_000;

/**
 * Benchmark ingestion: each sample is merged into Postgres once (receipt + aggregate in one
 * transaction), then the change is broadcast so every replica's snapshot takes it.
 */
@Injectable()
export class BenchmarksService implements OnApplicationShutdown {
  private readonly outcomes: Counter<'outcome'>;
  private readonly counts = new Map<string, number>();
  private readonly pendingProvisioning = new Map<string, Moments>();
  private provisioningTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: BenchmarksRepository,
    private readonly nats: NatsService,
    metrics: HttpMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.outcomes = new Counter({
      name: 'anneal_benchmark_samples_total',
      help: 'Benchmark samples received, by outcome (merged, duplicate, simulated, rejected_<code>)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
  }

  /** Outcomes counted by this process since it started. */
  sampleCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Handles one message body from the samples stream. Throws only when storage fails (retry). */
  async ingestMessage(data: Uint8Array): Promise<SampleOutcome> {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
    } catch {
      return this.count('rejected_malformed_json');
    }
    const message = readSampleMessage(json);
    if (message.kind === 'rejected') {
      // Field names only: the values are what must not be spread around.
      this.logger.warn({ code: message.code, fields: message.fields }, `benchmark sample rejected: ${message.message}`);
      return this.count(`rejected_${message.code}`);
    }
    if (message.kind === 'simulated') return this.count('simulated');
    return this.ingest(message.sampleId, message.sample);
  }

  /** Merges a validated sample once. */
  async ingest(sampleId: string, sample: BenchmarkSample): Promise<SampleOutcome> {
    const { key, aggregate } = ingestSample(sample);
    const result = await this.repository.mergeObservedSample(sampleId, key, aggregate, this.clock.now());
    if (!result.merged) return this.count('duplicate');
    this.broadcast({ schemaVersion: 1, type: 'step_time', key, revision: result.revision, delta: aggregate });
    return this.count('merged');
  }

  /**
   * Records one measured provisioning overhead (attempt created → first step), in seconds. Values
   * are merged in memory and written once a second per provider kind (one row update and one
   * broadcast, instead of one per started attempt on a single hot row); at most that second of
   * statistics is lost if the process dies.
   */
  recordProvisioning(providerKind: string, seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    const kind = providerKind.trim().toLowerCase();
    this.pendingProvisioning.set(kind, addValue(this.pendingProvisioning.get(kind) ?? emptyMoments(), seconds));
    this.provisioningTimer ??= setTimeout(() => void this.flushProvisioning().catch((error: unknown) => this.logger.warn({ err: error }, 'writing provisioning overheads failed')), PROVISIONING_FLUSH_MS);
  }

  /** Writes the provisioning overheads recorded so far (the timer's job; shutdown and tests call it too). */
  async flushProvisioning(): Promise<void> {
    clearTimeout(this.provisioningTimer);
    this.provisioningTimer = undefined;
    const pending = [...this.pendingProvisioning];
    this.pendingProvisioning.clear();
    for (const [providerKind, delta] of pending) {
      try {
        await this.repository.mergeProvisioning(providerKind, delta, this.clock.now());
      } catch (error) {
        // Kept for the next flush rather than lost.
        this.pendingProvisioning.set(providerKind, mergeMoments(this.pendingProvisioning.get(providerKind) ?? emptyMoments(), delta));
        throw error;
      }
      this.broadcast({ schemaVersion: 1, type: 'provisioning', providerKind, delta });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flushProvisioning().catch((error: unknown) => this.logger.warn({ err: error }, 'writing provisioning overheads at shutdown failed'));
  }

  /**
   * Publishes a finished attempt's anonymized sample on the samples stream (for the attempts
   * pipeline). `sampleId` is a fresh random UUID chosen when the attempt finished, never its id;
   * it is also the JetStream de-duplication id.
   */
  async publishSample(sampleId: string, sample: ProtocolSample | BenchmarkSample): Promise<void> {
    await this.nats.jetstream.publish(benchmarkSamplesSubject(this.nats.prefix), encoder.encode(JSON.stringify({ sampleId, sample })), { msgID: sampleId });
  }

  private broadcast(update: BenchmarkUpdate): void {
    try {
      this.nats.connection.publish(benchmarkUpdatesSubject(this.nats.prefix), encoder.encode(JSON.stringify(update)));
    } catch (error) {
      this.logger.warn({ err: error }, 'benchmark update broadcast failed; replicas catch up on their next load');
    }
  }

  private count(outcome: SampleOutcome): SampleOutcome {
    this.outcomes.inc({ outcome });
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
    return outcome;
  }
}
