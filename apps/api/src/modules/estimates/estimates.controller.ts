import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { RequireScopes } from '../auth/scopes.js';
import { CreateEstimateDto } from './dto/create-estimate.dto.js';
import { EstimateRequestPipe } from './dto/estimate-request.pipe.js';
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
  @ApiBody({ type: CreateEstimateDto })
  // Readonly<…> is not a class, so the global pipe leaves the body to EstimateRequestPipe (same validation, remembered).
  async create(@CurrentPrincipal() principal: Principal, @Body(EstimateRequestPipe) body: Readonly<CreateEstimateDto>, @Res() res: Response): Promise<void> {
    const { head, tail } = await this.estimates.create(principal, body);
    // The bytes as they are: most of the answer is shared by every quote of this estimate and
    // already encoded, and an ETag over a fresh quote would never match.
    res.status(200);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', head.length + tail.length);
    res.cork();
    res.write(head);
    res.end(tail);
    res.uncork();
  }

  @Get(':id')
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'A quote of your organization' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', new IdParam('Quote')) id: string) {
    return this.estimates.get(principal, id);
  }
}
