import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { RequireScopes } from '../auth/scopes.js';
import { DisputesService } from './disputes.service.js';
import { OpenDisputeDto, RespondDisputeDto } from './dto/dispute.dto.js';

const disputeId = new IdParam('Dispute');

/** Customers open disputes on their attempts; providers answer; both follow the status. */
@ApiTags('disputes')
@ApiBearerAuth()
@Controller('v1/disputes')
export class DisputesController {
  constructor(private readonly disputes: DisputesService) {}

  @Post()
  @RequireScopes('jobs:write')
  open(@CurrentPrincipal() principal: Principal, @Body() body: OpenDisputeDto, @ClientMeta() meta: RequestMeta) {
    return this.disputes.open(principal, body, meta);
  }

  @Get()
  @RequireScopes('jobs:read')
  @ApiQuery({ name: 'status', required: false, enum: ['open', 'answered', 'resolved', 'unresolved'] })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'before', required: false, description: 'Cursor: nextCursor of the previous page.' })
  list(@CurrentPrincipal() principal: Principal, @Query('status') status?: string, @Query('limit') limit?: string, @Query('before') before?: string) {
    return this.disputes.list(principal, { status, limit: limit === undefined ? undefined : Number(limit), before });
  }

  @Get(':id')
  @RequireScopes('jobs:read')
  get(@CurrentPrincipal() principal: Principal, @Param('id', disputeId) id: string) {
    return this.disputes.get(principal, id);
  }

  @Post(':id/respond')
  @HttpCode(200)
  @RequireScopes('nodes:write')
  respond(@CurrentPrincipal() principal: Principal, @Param('id', disputeId) id: string, @Body() body: RespondDisputeDto, @ClientMeta() meta: RequestMeta) {
    return this.disputes.respond(principal, id, body.statement, meta);
  }
}
