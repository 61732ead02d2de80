import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { IdParam } from '../../core/http/id-param.pipe.js';
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
  balance(@Param('orgId', new IdParam('Organization')) orgId: string) {
    return this.billing.balanceView(orgId);
  }
}
