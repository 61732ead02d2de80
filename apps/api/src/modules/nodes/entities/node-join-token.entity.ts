import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Organization } from '../../orgs/entities/organization.entity.js';

/** A one-time join token: shown once, stored as a keyed hash, expires, consumed by one registration. */
@Entity('node_join_tokens')
export class NodeJoinToken {
  @PrimaryColumn('uuid')
  id!: string;

  @Index('node_join_tokens_org_id_idx')
  @Column('uuid', { name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'node_join_tokens_org_id_fkey' })
  org?: Relation<Organization>;

  @Index('node_join_tokens_token_hash_key', { unique: true })
  @Column('text', { name: 'token_hash' })
  tokenHash!: string;

  @Column('uuid', { name: 'created_by' })
  createdBy!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @Column('uuid', { name: 'node_id', nullable: true })
  nodeId!: string | null;
}
