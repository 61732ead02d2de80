import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { Public } from '../auth/public.decorator.js';
import { RequireScopes } from '../auth/scopes.js';
import { DrainNodeDto, JoinRequestDocDto, JoinTokenResponseDto, UpdateNodeDto } from './dto/nodes.dto.js';
import { NodesService } from './nodes.service.js';

const nodeIdParam = new IdParam('Node');

@ApiTags('provider nodes')
@ApiBearerAuth()
@Controller('v1/provider/nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  /** A one-time join token (shown once) and the command that registers a host with it. */
  @Post('join-tokens')
  @RequireScopes('nodes:write')
  @ApiCreatedResponse({ type: JoinTokenResponseDto })
  createJoinToken(@CurrentPrincipal() principal: Principal, @Req() request: Request, @ClientMeta() meta: RequestMeta) {
    return this.nodes.createJoinToken(principal, `${request.protocol}://${request.get('host') ?? 'localhost'}`, meta);
  }

  /** The agent's registration (`anneal-agent register`): consumes the join token. */
  @Post('join')
  @Public()
  @ApiBody({ type: JoinRequestDocDto })
  join(@Body() body: unknown, @ClientMeta() meta: RequestMeta) {
    return this.nodes.join(body, meta);
  }

  @Get()
  @RequireScopes('nodes:read')
  list(@CurrentPrincipal() principal: Principal) {
    return this.nodes.list(principal);
  }

  @Get(':id')
  @RequireScopes('nodes:read')
  get(@CurrentPrincipal() principal: Principal, @Param('id', nodeIdParam) id: string, @Query('hours') hours?: string) {
    const parsed = hours === undefined ? 24 : Number(hours);
    return this.nodes.get(principal, id, Number.isFinite(parsed) ? parsed : 24);
  }

  @Patch(':id')
  @RequireScopes('nodes:write')
  update(@CurrentPrincipal() principal: Principal, @Param('id', nodeIdParam) id: string, @Body() body: UpdateNodeDto, @ClientMeta() meta: RequestMeta) {
    return this.nodes.update(
      principal,
      id,
      { priceMicrosPerGpuHour: body.priceMicrosPerGpuHour === undefined ? undefined : BigInt(body.priceMicrosPerGpuHour), listed: body.listed, draining: body.draining },
      meta,
    );
  }

  @Post(':id/drain')
  @RequireScopes('nodes:write')
  @HttpCode(200)
  drain(@CurrentPrincipal() principal: Principal, @Param('id', nodeIdParam) id: string, @Body() body: DrainNodeDto, @ClientMeta() meta: RequestMeta) {
    return this.nodes.drain(principal, id, body.reason ?? null, meta);
  }

  @Delete(':id')
  @RequireScopes('nodes:write')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', nodeIdParam) id: string, @ClientMeta() meta: RequestMeta) {
    await this.nodes.remove(principal, id, meta);
  }
}
