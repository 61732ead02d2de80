import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Provisioning overhead (seconds from attempt to first step) per provider kind: count, mean, M2. */
@Entity('provisioning_aggregates')
export class ProvisioningAggregateRow {
  @PrimaryColumn('text', { name: 'provider_kind' })
  providerKind!: string;

  @Column('integer', { name: 'seconds_count' })
  secondsCount!: number;

  @Column('double precision', { name: 'seconds_mean' })
  secondsMean!: number;

  @Column('double precision', { name: 'seconds_m2' })
  secondsM2!: number;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
