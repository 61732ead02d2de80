import { Inject, Injectable } from '@nestjs/common';
import { addValue, emptyMoments, ingestSample, type BenchmarkSample } from '@anneal/benchmarks';
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

/**
 * Benchmark ingestion: each sample is merged into Postgres once (receipt + aggregate in one
 * transaction), then the change is broadcast so every replica's snapshot takes it.
 */
@Injectable()
export class BenchmarksService {
  private readonly outcomes: Counter<'outcome'>;
  private readonly counts = new Map<string, number>();

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

  /** Records one measured provisioning overhead (attempt created → first step), in seconds. */
  async recordProvisioning(providerKind: string, seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    const delta = addValue(emptyMoments(), seconds);
    await this.repository.mergeProvisioning(providerKind.trim().toLowerCase(), delta, this.clock.now());
    this.broadcast({ schemaVersion: 1, type: 'provisioning', providerKind, delta });
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
