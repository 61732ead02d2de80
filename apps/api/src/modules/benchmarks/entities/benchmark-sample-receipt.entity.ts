import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A sample merged into the aggregates, by the random id its attempt chose when it finished (never
 * the attempt id): a replayed message finds its receipt and is counted once.
 */
@Entity('benchmark_sample_receipts')
export class BenchmarkSampleReceipt {
  @PrimaryColumn('uuid', { name: 'sample_id' })
  sampleId!: string;

  @Index('benchmark_sample_receipts_received_at_idx')
  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;
}
