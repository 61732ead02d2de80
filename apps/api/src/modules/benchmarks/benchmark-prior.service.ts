import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';
import { BenchmarksRepository } from './benchmarks.repository.js';
import { buildPublicPrior, defaultTablesDir, formatPriorReport, readPublicTables } from './public-prior.js';

/** Imports the public step-time tables at boot when the database has no public rows yet. */
@Injectable()
export class BenchmarkPriorService {
  constructor(
    private readonly repository: BenchmarksRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async importIfEmpty(): Promise<{ imported: boolean; rows: number }> {
    if ((await this.repository.countPublicRows()) > 0) return { imported: false, rows: 0 };
    const dir = this.config.BENCHMARK_TABLES_DIR ?? defaultTablesDir();
    if (!dir) {
      this.logger.warn('public step-time tables (libs/benchmarks/data/step-times) not found; set BENCHMARK_TABLES_DIR to import the prior');
      return { imported: false, rows: 0 };
    }
    const build = buildPublicPrior(readPublicTables(dir));
    const result = await this.repository.replacePublicRows(build.rows, this.clock.now(), { onlyIfEmpty: true });
    if (result.skipped) return { imported: false, rows: 0 };
    const skipped = build.tables.reduce((sum, t) => sum + t.unmapped, 0);
    this.logger.info(
      { rows: result.inserted, skippedStepTimeRows: skipped, tables: build.tables, skippedReasons: build.unmappedReasons },
      `imported the public benchmark prior: ${result.inserted} aggregates; ${skipped} step-time rows skipped (unmapped)\n${formatPriorReport(build).join('\n')}`,
    );
    return { imported: true, rows: result.inserted };
  }
}
