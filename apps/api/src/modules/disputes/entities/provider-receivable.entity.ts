import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../../../core/database/bigint.transformer.js';

/**
 * What a provider owes the platform after a refund the platform advanced (its earnings had been
 * paid out, and the ledger never lets a payable go negative). Recovered from its next earnings by
 * correcting transfers provider payable → platform revenue (`dispute_resolution`, linked to the
 * dispute); settled when fully recovered.
 */
@Entity('provider_receivables')
@Check('provider_receivables_amount_ck', 'amount_micros > 0')
@Check('provider_receivables_recovered_ck', 'recovered_micros >= 0 AND recovered_micros <= amount_micros')
@Index('provider_receivables_open_idx', ['providerOrgId'], { where: 'settled_at IS NULL' })
export class ProviderReceivable {
  @PrimaryColumn('uuid') id!: string;
  @Index('provider_receivables_dispute_id_key', { unique: true })
  @Column('uuid', { name: 'dispute_id' })
  disputeId!: string;
  @Column('uuid', { name: 'provider_org_id' }) providerOrgId!: string;
  @Column('bigint', { name: 'amount_micros', transformer: bigintTransformer }) amountMicros!: bigint;
  @Column('bigint', { name: 'recovered_micros', transformer: bigintTransformer, default: 0 }) recoveredMicros!: bigint;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'settled_at', nullable: true }) settledAt!: Date | null;
}
