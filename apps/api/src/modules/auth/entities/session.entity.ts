import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../../users/entities/user.entity.js';

/** A login: the access tokens it signs name it, and its refresh token (stored hashed) renews it. */
@Entity('sessions')
export class Session {
  @PrimaryColumn('uuid')
  id!: string;

  @Index('sessions_user_id_idx')
  @Column('uuid', { name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sessions_user_id_fkey' })
  user?: Relation<User>;

  @Index('sessions_refresh_token_hash_key', { unique: true })
  @Column('text', { name: 'refresh_token_hash' })
  refreshTokenHash!: string;

  /** The refresh token this one replaced: presenting it again means a copy leaked, so the session ends. */
  @Index('sessions_previous_refresh_token_hash_idx')
  @Column('text', { name: 'previous_refresh_token_hash', nullable: true })
  previousRefreshTokenHash!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column('text', { nullable: true })
  ip!: string | null;

  @Column('text', { name: 'user_agent', nullable: true })
  userAgent!: string | null;
}
