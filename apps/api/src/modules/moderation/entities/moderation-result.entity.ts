import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Organization } from '../../orgs/entities/organization.entity.js';

export type ModerationSubjectType = 'dataset' | 'job';
export type ModerationOutcome = 'passed' | 'rejected';

/** One failed rule: a stable code and a sentence the user reads. */
export interface ModerationReason {
  code: string;
  message: string;
}

/** Every moderation decision, kept for the user (why) and the admin review queue. */
@Entity('moderation_results')
@Index('moderation_results_subject_idx', ['subjectType', 'subjectId', 'createdAt'])
@Index('moderation_results_org_id_outcome_idx', ['orgId', 'outcome'])
export class ModerationResult {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text', { name: 'subject_type' })
  subjectType!: ModerationSubjectType;

  @Column('uuid', { name: 'subject_id' })
  subjectId!: string;

  @Column('uuid', { name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'moderation_results_org_id_fkey' })
  org?: Relation<Organization>;

  @Column('text')
  outcome!: ModerationOutcome;

  @Column('jsonb')
  reasons!: ModerationReason[];

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  /** An admin's decision overrides `outcome` when set. */
  @Column('text', { name: 'review_outcome', nullable: true })
  reviewOutcome!: ModerationOutcome | null;

  @Column('uuid', { name: 'reviewed_by', nullable: true })
  reviewedBy!: string | null;

  @Column('timestamptz', { name: 'reviewed_at', nullable: true })
  reviewedAt!: Date | null;

  @Column('text', { name: 'review_note', nullable: true })
  reviewNote!: string | null;
}
