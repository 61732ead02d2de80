import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { BenchmarkSnapshot } from '@anneal/benchmarks';
import type { Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { BenchmarkPriorService } from './benchmark-prior.service.js';
import { benchmarkUpdatesSubject, parseBenchmarkUpdate, type BenchmarkUpdate } from './benchmark-updates.js';
import { BenchmarksRepository, OBSERVED_SOURCE } from './benchmarks.repository.js';

/**
 * The in-memory snapshot every estimate reads: all aggregates, loaded at boot, then kept current
 * by the updates every replica receives. `version` changes whenever the content does, so estimates
 * cached against an older version are not served.
 *
 * An update names the revision its write gave the row; one at or below the revision this replica
 * loaded is already in the snapshot and is skipped, so loading while samples arrive neither loses
 * nor double counts one.
 */
@Injectable()
export class BenchmarkSnapshotService implements OnApplicationBootstrap, OnModuleDestroy {
  private current = BenchmarkSnapshot.build();
  private loadedRevisions = new Map<string, number>();
  private versionCounter = 0;
  private loading = false;
  private buffered: BenchmarkUpdate[] = [];
  private subscription?: Subscription;

  constructor(
    private readonly repository: BenchmarksRepository,
    private readonly prior: BenchmarkPriorService,
    private readonly nats: NatsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get snapshot(): BenchmarkSnapshot {
    return this.current;
  }

  /** Changes with every change of the snapshot's content (loads and merges). */
  get version(): number {
    return this.versionCounter;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.BENCHMARK_PRIOR_IMPORT) {
      try {
        await this.prior.importIfEmpty();
      } catch (error) {
        this.logger.error({ err: error }, 'public benchmark prior could not be imported; estimates fall back to FLOP-count priors');
      }
    }
    this.subscription = this.nats.connection.subscribe(benchmarkUpdatesSubject(this.nats.prefix), {
      callback: (error, message) => {
        if (error) return;
        let update: BenchmarkUpdate | undefined;
        try {
          update = parseBenchmarkUpdate(message.json());
        } catch {
          update = undefined;
        }
        if (!update) {
          this.logger.warn({ subject: message.subject }, 'ignored a malformed benchmark update');
          return;
        }
        this.receive(update);
      },
    });
    await this.nats.connection.flush();
    await this.reload();
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /** Rebuilds the snapshot from the database. */
  async reload(): Promise<void> {
    this.loading = true;
    try {
      const { stepTimes, provisioning } = await this.repository.loadAll();
      const revisions = new Map<string, number>();
      for (const row of stepTimes) if (row.source === OBSERVED_SOURCE) revisions.set(row.key, row.revision);
      this.current = BenchmarkSnapshot.build({ stepTimes, provisioning });
      this.loadedRevisions = revisions;
      this.versionCounter += 1;
      this.logger.info({ keys: this.current.size, rows: stepTimes.length }, 'benchmark snapshot loaded');
    } finally {
      this.loading = false;
      const pending = this.buffered;
      this.buffered = [];
      for (const update of pending) this.apply(update);
    }
  }

  private receive(update: BenchmarkUpdate): void {
    if (this.loading) this.buffered.push(update);
    else this.apply(update);
  }

  private apply(update: BenchmarkUpdate): void {
    if (update.type === 'reload') {
      void this.reload().catch((error: unknown) => this.logger.error({ err: error }, 'benchmark snapshot reload failed'));
      return;
    }
    if (update.type === 'provisioning') {
      this.current.mergeProvisioning(update.providerKind, update.delta);
      this.versionCounter += 1;
      return;
    }
    if ((this.loadedRevisions.get(update.key) ?? 0) >= update.revision) return;
    if (this.current.merge(update.key, update.delta)) this.versionCounter += 1;
  }
}
