import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Attempt } from '../../jobs/entities/attempt.entity.js';
import { Organization } from '../../orgs/entities/organization.entity.js';

/**
 * A one-time join token: shown once, stored as a keyed hash, expires, consumed by one registration.
 * Either a provider's member created it in the console (`createdBy`), or it is bound to a cloud
 * attempt (`attemptId`): minted when the scheduler starts the machine, owned by the cloud
 * provider's system organization, with the attempt's assignment sealed until it is published.
 */
@Entity('node_join_tokens')
@Check('node_join_tokens_issuer_ck', '(created_by IS NULL) <> (attempt_id IS NULL)')
@Index('node_join_tokens_attempt_id_key', ['attemptId'], { unique: true, where: 'attempt_id IS NOT NULL' })
@Index('node_join_tokens_sealed_idx', ['expiresAt'], { where: 'assignment_sealed IS NOT NULL' })
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

  /** The member who created it in the console; null for an attempt-bound token. */
  @Column('uuid', { name: 'created_by', nullable: true })
  createdBy!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @Column('uuid', { name: 'node_id', nullable: true })
  nodeId!: string | null;

  /** The cloud attempt whose machine registers with this token; null for a console token. */
  @Column('uuid', { name: 'attempt_id', nullable: true })
  attemptId!: string | null;

  @ManyToOne(() => Attempt, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'attempt_id', foreignKeyConstraintName: 'node_join_tokens_attempt_id_fkey' })
  attempt?: Relation<Attempt>;

  /** The attempt's assignment (it holds the attempt token), sealed with the SecretBox; dropped once published or the attempt ended. */
  @Column('text', { name: 'assignment_sealed', nullable: true })
  assignmentSealed!: string | null;

  /** When the assignment was published to the node that joined. */
  @Column('timestamptz', { name: 'assignment_published_at', nullable: true })
  assignmentPublishedAt!: Date | null;
}
