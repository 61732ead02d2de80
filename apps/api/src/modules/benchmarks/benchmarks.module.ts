import { Module } from '@nestjs/common';
import { BenchmarkPriorService } from './benchmark-prior.service.js';
import { BenchmarkSamplesConsumer } from './benchmark-samples.consumer.js';
import { BenchmarkSnapshotService } from './benchmark-snapshot.service.js';
import { BenchmarksRepository } from './benchmarks.repository.js';
import { BenchmarksScheduler } from './benchmarks.scheduler.js';
import { BenchmarksService } from './benchmarks.service.js';

/** Benchmark aggregates: prior import, sample ingestion, the in-memory snapshot estimates read. */
@Module({
  providers: [BenchmarksRepository, BenchmarkPriorService, BenchmarksService, BenchmarkSnapshotService, BenchmarkSamplesConsumer, BenchmarksScheduler],
  exports: [BenchmarkSnapshotService, BenchmarksService],
})
export class BenchmarksModule {}
