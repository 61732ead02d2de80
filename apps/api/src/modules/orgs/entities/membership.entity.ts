import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../../users/entities/user.entity.js';
import { Organization } from './organization.entity.js';

export type OrgRole = 'owner' | 'admin' | 'member';

@Entity('memberships')
export class Membership {
  @PrimaryColumn('uuid', { name: 'org_id' })
  orgId!: string;

  @Index('memberships_user_id_idx')
  @PrimaryColumn('uuid', { name: 'user_id' })
  userId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'memberships_org_id_fkey' })
  org?: Relation<Organization>;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'memberships_user_id_fkey' })
  user?: Relation<User>;

  @Column('text')
  role!: OrgRole;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
