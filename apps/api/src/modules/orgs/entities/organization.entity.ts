import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('organizations')
export class Organization {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  /** The organization made for a user at sign-up. */
  @Column('boolean', { default: false })
  personal!: boolean;

  /** Platform role "provider": this organization may list GPUs. */
  @Column('boolean', { name: 'provider_enabled', default: false })
  providerEnabled!: boolean;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
