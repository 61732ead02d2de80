import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Organization } from '../../orgs/entities/organization.entity.js';
import { QuoteContent } from './quote-content.entity.js';

/** An estimate as the customer saw it, kept until it expires so a submission can reference it. */
@Entity('quotes')
@Index('quotes_org_id_created_at_idx', ['orgId', 'createdAt'])
export class Quote {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'quotes_org_id_fkey' })
  org?: Relation<Organization>;

  /** The user who asked (directly or through an API key). */
  @Column('uuid', { name: 'created_by' })
  createdBy!: string;

  /** The request as validated (recipe, resources, filters) and what it resolved to. */
  @Column('jsonb')
  request!: Record<string, unknown>;

  @Index('quotes_content_id_idx')
  @Column('uuid', { name: 'content_id' })
  contentId!: string;

  /** Loaded with the quote (find* methods join it). */
  @ManyToOne(() => QuoteContent, { eager: true, nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'content_id', foreignKeyConstraintName: 'quotes_content_id_fkey' })
  content!: Relation<QuoteContent>;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Index('quotes_expires_at_idx')
  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  /** One row per offer, sorted by p50 cost; money as decimal strings of micro-dollars. */
  get rows(): unknown[] {
    return this.content.rows;
  }

  /** Offers the recipe cannot run on (memory), grouped by hardware profile, with the reason. */
  get excluded(): unknown[] {
    return this.content.excluded;
  }

  get summary(): string {
    return this.content.summary;
  }
}
