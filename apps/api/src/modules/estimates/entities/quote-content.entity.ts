import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * What an estimate showed: the rows, the offers it could not run on, and the summary. Shared by
 * every quote of the same estimate (request, offers, benchmark snapshot and row limit), stored once.
 * Holds nothing about who asked: that is on each `Quote`.
 */
@Entity('quote_contents')
export class QuoteContent {
  @PrimaryColumn('uuid')
  id!: string;

  /** One row per offer, sorted by p50 cost; money as decimal strings of micro-dollars. */
  @Column('jsonb')
  rows!: unknown[];

  /** Offers the recipe cannot run on (memory), grouped by hardware profile, with the reason. */
  @Column('jsonb')
  excluded!: unknown[];

  @Column('text')
  summary!: string;

  @Index('quote_contents_created_at_idx')
  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
