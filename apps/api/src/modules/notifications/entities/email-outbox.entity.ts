import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An email waiting to be sent: written in the same transaction as what caused it, sent after. */
@Entity('email_outbox')
@Index('email_outbox_pending_idx', ['createdAt'], { where: 'sent_at IS NULL' })
export class EmailOutbox {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text', { name: 'to_address' })
  toAddress!: string;

  @Column('text')
  subject!: string;

  @Column('text')
  body!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'sent_at', nullable: true })
  sentAt!: Date | null;

  @Column('integer', { default: 0 })
  attempts!: number;
}
