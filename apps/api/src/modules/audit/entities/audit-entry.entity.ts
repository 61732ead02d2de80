import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Append-only: the database refuses DELETE, and UPDATE except the privacy redactions (IP and user
 * agent nulled after 90 days; the actor anonymized when the account is deleted).
 */
@Entity('audit_log')
@Index('audit_log_org_time_idx', ['orgId', 'occurredAt'])
@Index('audit_log_actor_time_idx', ['actorUserId', 'occurredAt'])
export class AuditEntry {
  @PrimaryColumn('uuid')
  id!: string;

  @Index('audit_log_occurred_at_idx')
  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt!: Date;

  @Column('uuid', { name: 'actor_user_id', nullable: true })
  actorUserId!: string | null;

  /** "user:<id>", "api_key:<id>", "system", or "deleted:<opaque>" after account deletion. */
  @Column('text', { name: 'actor_ref' })
  actorRef!: string;

  @Column('uuid', { name: 'org_id', nullable: true })
  orgId!: string | null;

  @Index('audit_log_action_idx')
  @Column('text')
  action!: string;

  @Column('text', { name: 'target_type', nullable: true })
  targetType!: string | null;

  @Column('text', { name: 'target_id', nullable: true })
  targetId!: string | null;

  @Column('text', { nullable: true })
  ip!: string | null;

  @Column('text', { name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @Column('jsonb', { default: {} })
  details!: Record<string, unknown>;
}
