import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Credentials of a cloud provider, sealed with the SecretBox; never returned by the API. */
@Entity('provider_credentials')
export class ProviderCredential {
  /** 'gcp' | 'runpod' */
  @PrimaryColumn('text')
  kind!: string;

  /** SecretBox envelope of the credentials JSON. */
  @Column('text', { name: 'sealed_credentials' })
  sealedCredentials!: string;

  /** Non-secret adapter options (zones, project, GPU types and prices). */
  @Column('jsonb')
  config!: Record<string, unknown>;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('uuid', { name: 'updated_by', nullable: true })
  updatedBy!: string | null;
}
