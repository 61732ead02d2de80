import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { RequireScopes, SessionOnly } from '../auth/scopes.js';
import { AcceptInviteDto, ChangeRoleDto, CreateOrgDto, InviteDto } from './dto/orgs.dto.js';
import { OrgsService } from './orgs.service.js';

import { IdParam } from '../../core/http/id-param.pipe.js';

const orgIdParam = new IdParam('Organization');
const userIdParam = new IdParam('Member');

@ApiTags('orgs')
@ApiBearerAuth()
@Controller('v1')
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @Get('orgs')
  @RequireScopes('orgs:read')
  list(@CurrentPrincipal() principal: Principal) {
    return this.orgs.listMine(principal);
  }

  @Post('orgs')
  @SessionOnly()
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateOrgDto, @ClientMeta() meta: RequestMeta) {
    return this.orgs.create(principal, body.name, meta);
  }

  @Get('orgs/:orgId')
  @RequireScopes('orgs:read')
  get(@CurrentPrincipal() principal: Principal, @Param('orgId', orgIdParam) orgId: string) {
    return this.orgs.get(principal, orgId);
  }

  @Get('orgs/:orgId/members')
  @RequireScopes('orgs:read')
  members(@CurrentPrincipal() principal: Principal, @Param('orgId', orgIdParam) orgId: string) {
    return this.orgs.members(principal, orgId);
  }

  @Post('orgs/:orgId/invites')
  @RequireScopes('orgs:write')
  invite(@CurrentPrincipal() principal: Principal, @Param('orgId', orgIdParam) orgId: string, @Body() body: InviteDto, @ClientMeta() meta: RequestMeta) {
    return this.orgs.invite(principal, orgId, body.email, body.role, meta);
  }

  @Post('invites/accept')
  @SessionOnly()
  @HttpCode(200)
  accept(@CurrentPrincipal() principal: Principal, @Body() body: AcceptInviteDto, @ClientMeta() meta: RequestMeta) {
    return this.orgs.acceptInvite(principal, body.token, meta);
  }

  @Patch('orgs/:orgId/members/:userId')
  @SessionOnly()
  changeRole(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', orgIdParam) orgId: string,
    @Param('userId', userIdParam) userId: string,
    @Body() body: ChangeRoleDto,
    @ClientMeta() meta: RequestMeta,
  ) {
    return this.orgs.changeRole(principal, orgId, userId, body.role, meta);
  }

  @Delete('orgs/:orgId/members/:userId')
  @SessionOnly()
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('orgId', orgIdParam) orgId: string, @Param('userId', userIdParam) userId: string, @ClientMeta() meta: RequestMeta) {
    await this.orgs.removeMember(principal, orgId, userId, meta);
  }

  @Post('orgs/:orgId/provider')
  @SessionOnly()
  @HttpCode(200)
  enableProvider(@CurrentPrincipal() principal: Principal, @Param('orgId', orgIdParam) orgId: string, @ClientMeta() meta: RequestMeta) {
    return this.orgs.enableProvider(principal, orgId, meta);
  }
}
