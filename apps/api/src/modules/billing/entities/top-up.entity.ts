import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../../../core/database/bigint.transformer.js';

export type TopUpStatus = 'pending' | 'succeeded' | 'failed';

/** A top-up intent created with the payment processor; its webhook moves the money and the status. */
@Entity('top_ups')
@Check('top_ups_amount_micros_check', `amount_micros > 0`)
@Check('top_ups_status_check', `status IN ('pending', 'succeeded', 'failed')`)
@Index('top_ups_org_id_created_at_idx', ['orgId', 'createdAt'])
@Index('top_ups_org_id_idempotency_key_key', ['orgId', 'idempotencyKey'], { unique: true })
export class TopUp {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'org_id' })
  orgId!: string;

  @Column('uuid', { name: 'created_by', nullable: true })
  createdBy!: string | null;

  @Column('text')
  processor!: string;

  /** The processor's payment id (the ledger transfer derives from it). */
  @Index('top_ups_payment_id_key', { unique: true })
  @Column('text', { name: 'payment_id' })
  paymentId!: string;

  @Column('bigint', { name: 'amount_micros', transformer: bigintTransformer })
  amountMicros!: bigint;

  @Column('text', { default: 'pending' })
  status!: TopUpStatus;

  @Column('text', { name: 'checkout_url' })
  checkoutUrl!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt!: Date | null;

  /** The client's Idempotency-Key: a retry with it returns this top-up. */
  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey!: string | null;
}
