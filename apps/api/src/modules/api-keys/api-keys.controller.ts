import { Body, Controller, Delete, Get, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { RateLimitGuard } from '../auth/rate-limit.guard.js';
import { SessionOnly } from '../auth/scopes.js';
import { ApiKeysService } from './api-keys.service.js';
import { CreateApiKeyDto } from './dto/api-keys.dto.js';

@ApiTags('api-keys')
@ApiBearerAuth()
@SessionOnly()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  list(@CurrentPrincipal() principal: Principal) {
    return this.keys.list(principal);
  }

  /** The key itself is in this response only; it is stored as a hash. */
  @Post()
  @UseGuards(RateLimitGuard)
  @SkipThrottle({ auth: true })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateApiKeyDto, @ClientMeta() meta: RequestMeta) {
    return this.keys.create(principal, body.name, body.scopes, meta);
  }

  @Delete(':id')
  revoke(@CurrentPrincipal() principal: Principal, @Param('id', new IdParam('API key')) id: string, @ClientMeta() meta: RequestMeta) {
    return this.keys.revoke(principal, id, meta);
  }
}
