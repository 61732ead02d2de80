import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A NATS message to publish after the transaction that wrote it commits. */
@Entity('outbox_messages')
@Index('outbox_messages_pending_idx', ['createdAt'], { where: 'published_at IS NULL' })
export class OutboxMessage {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') subject!: string;
  @Column('jsonb') payload!: Record<string, unknown>;
  /** Publish on JetStream (with this as the de-duplication id) rather than core NATS. */
  @Column('boolean', { default: false }) jetstream!: boolean;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'published_at', nullable: true }) publishedAt!: Date | null;
  @Column('integer', { default: 0 }) attempts!: number;
}
