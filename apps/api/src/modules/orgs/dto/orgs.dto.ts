import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsIn, IsString, Length, MaxLength } from 'class-validator';
import type { OrgRole } from '../entities/membership.entity.js';

export const ORG_ROLES: readonly OrgRole[] = ['owner', 'admin', 'member'];

export class CreateOrgDto {
  @ApiProperty({ example: 'Acme Research' })
  @IsString()
  @Length(1, 100)
  name!: string;
}

export class InviteDto {
  @ApiProperty({ example: 'grace@example.com' })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ enum: ORG_ROLES })
  @IsIn(ORG_ROLES, { message: `role must be one of ${ORG_ROLES.join(', ')}` })
  role!: OrgRole;
}

export class AcceptInviteDto {
  @ApiProperty()
  @IsString()
  @MaxLength(200)
  token!: string;
}

export class ChangeRoleDto {
  @ApiProperty({ enum: ORG_ROLES })
  @IsIn(ORG_ROLES, { message: `role must be one of ${ORG_ROLES.join(', ')}` })
  role!: OrgRole;
}
