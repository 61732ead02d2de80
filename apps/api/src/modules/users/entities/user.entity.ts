import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type UserStatus = 'active' | 'suspended' | 'deleted';

@Entity('users')
export class User {
  @PrimaryColumn('uuid')
  id!: string;

  /** Lower-cased; null once the account is deleted (personal data removed). */
  @Index('users_email_key', { unique: true })
  @Column('text', { nullable: true })
  email!: string | null;

  @Column('text', { nullable: true })
  name!: string | null;

  @Column('text', { name: 'password_hash', nullable: true })
  passwordHash!: string | null;

  @Column('boolean', { name: 'is_admin', default: false })
  isAdmin!: boolean;

  @Column('text', { default: 'active' })
  status!: UserStatus;

  @Column('uuid', { name: 'personal_org_id' })
  personalOrgId!: string;

  @Column('integer', { name: 'failed_login_count', default: 0 })
  failedLoginCount!: number;

  @Column('timestamptz', { name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;

  /** AES-256-GCM envelope of the TOTP secret (set at enrolment, before it is verified). */
  @Column('text', { name: 'totp_secret_sealed', nullable: true })
  totpSecretSealed!: string | null;

  @Column('timestamptz', { name: 'totp_enabled_at', nullable: true })
  totpEnabledAt!: Date | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
