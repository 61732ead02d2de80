import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { RequireScopes } from '../auth/scopes.js';
import { PayoutsQueryDto, StatementQueryDto } from './dto/billing.dto.js';
import { PayoutsService } from './payouts.service.js';

/** A provider org's earnings and payouts (its own only). */
@ApiTags('provider')
@ApiBearerAuth()
@Controller('v1/provider')
export class ProviderEarningsController {
  constructor(private readonly payouts: PayoutsService) {}

  @Get('earnings')
  @RequireScopes('billing:read')
  @ApiOperation({ summary: 'Payable, paid out, and recent earnings lines' })
  earnings(@CurrentPrincipal() principal: Principal, @Query() query: StatementQueryDto) {
    return this.payouts.earnings(principal.orgId, query);
  }

  @Get('payouts')
  @RequireScopes('billing:read')
  list(@CurrentPrincipal() principal: Principal, @Query() query: PayoutsQueryDto) {
    return this.payouts.payouts(principal.orgId, { before: query.cursor, limit: query.limit });
  }
}
