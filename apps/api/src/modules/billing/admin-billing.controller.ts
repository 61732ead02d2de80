import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { AdminOnly } from '../auth/scopes.js';
import { BillingService } from './billing.service.js';

/** Platform admins: any org's balance (read only). */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/billing')
export class AdminBillingController {
  constructor(private readonly billing: BillingService) {}

  @Get('orgs/:orgId/balance')
  @AdminOnly()
  balance(@CurrentPrincipal() admin: Principal, @Param('orgId', new IdParam('Organization')) orgId: string, @ClientMeta() meta: RequestMeta) {
    return this.billing.adminBalanceView(admin, orgId, meta);
  }
}
