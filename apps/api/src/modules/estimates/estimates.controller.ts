import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
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
  @ApiOkResponse({
    description:
      'The quote: id, createdAt, expiresAt, summary, steps, validationRuns, matchedOffers, notes, request, rows (cheapest first; runtimeSeconds and stepTimeMs p10/p50/p90, costMicros p10/p50/p90 and priceMicrosPerGpuHour as decimal strings of micro-dollars, basis, basisText, sampleCount, sentence, fastest) and excluded (offers the recipe cannot run on, by GPU and count, with the reason)',
  })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateEstimateDto, @Res({ passthrough: true }) res: Response): Promise<string> {
    const json = await this.estimates.create(principal, body);
    res.type('application/json');
    return json;
  }

  @Get(':id')
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'A quote of your organization' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', new IdParam('Quote')) id: string) {
    return this.estimates.get(principal, id);
  }
}
