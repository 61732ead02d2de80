import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { RequireScopes } from '../auth/scopes.js';
import { CreateEstimateDto } from './dto/create-estimate.dto.js';
import { EstimatesService } from './estimates.service.js';

@ApiTags('estimates')
@ApiBearerAuth()
@Controller('v1/estimates')
export class EstimatesController {
  constructor(private readonly estimates: EstimatesService) {}

  /** Runtime and cost (p10/p50/p90) of a recipe on every matching offer, stored as a quote. */
  @Post()
  @HttpCode(200)
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'Estimate a fine-tuning job on every matching offer; the answer is stored as a quote' })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateEstimateDto) {
    return this.estimates.create(principal, body);
  }

  @Get(':id')
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'A quote of your organization' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', new IdParam('Quote')) id: string) {
    return this.estimates.get(principal, id);
  }
}
