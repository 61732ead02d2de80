import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../../../core/database/bigint.transformer.js';

/** One line of an invoice, frozen when the invoice is generated. Amounts are micro-dollar strings. */
export interface InvoiceLine {
  transferId: string;
  timestamp: string;
  kind: 'charge' | 'credit' | 'top_up';
  code: string;
  description: string;
  amountMicros: string;
  jobId: string | null;
  attemptId: string | null;
  paymentId: string | null;
  usage: { gpuModel: string; gpuCount: number; billableSeconds: number; priceMicrosPerGpuHour: string; costMicros: string } | null;
}

/** A monthly invoice of an org: totals and a snapshot of its lines. Never deleted (kept 7 years). */
@Entity('invoices')
@Index('invoices_org_id_period_key', ['orgId', 'period'], { unique: true })
export class Invoice {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'org_id' })
  orgId!: string;

  /** The calendar month (UTC), e.g. "2026-10". */
  @Column('text')
  period!: string;

  @Column('timestamptz', { name: 'period_start' })
  periodStart!: Date;

  @Column('timestamptz', { name: 'period_end' })
  periodEnd!: Date;

  @Column('text', { default: 'usd' })
  currency!: string;

  /** Job charges in the period. */
  @Column('bigint', { name: 'charges_micros', transformer: bigintTransformer })
  chargesMicros!: bigint;

  /** Refunds, dispute resolutions and corrections credited in the period. */
  @Column('bigint', { name: 'credits_micros', transformer: bigintTransformer })
  creditsMicros!: bigint;

  /** Prepaid credit bought in the period (already paid; shown for reference). */
  @Column('bigint', { name: 'top_ups_micros', transformer: bigintTransformer })
  topUpsMicros!: bigint;

  /** charges − credits. */
  @Column('bigint', { name: 'total_micros', transformer: bigintTransformer })
  totalMicros!: bigint;

  @Column('jsonb')
  lines!: InvoiceLine[];

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
