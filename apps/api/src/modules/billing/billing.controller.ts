import { IdempotencyKey } from '../../core/http/idempotency-key.decorator.js';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { RequireScopes } from '../auth/scopes.js';
import { BillingService } from './billing.service.js';
import { CreateTopUpDto, SimulatePaymentDto, StatementQueryDto } from './dto/billing.dto.js';
import { InvoicesService } from './invoices.service.js';
import { PaymentsService } from './payments.service.js';

const invoiceId = new IdParam('Invoice');
const topUpId = new IdParam('Top-up');

/** A customer org's money: balance, statement, invoices, top-ups. Always the acting org's own. */
@ApiTags('billing')
@ApiBearerAuth()
@Controller('v1/billing')
export class BillingController {
  constructor(
    private readonly billing: BillingService,
    private readonly invoices: InvoicesService,
    private readonly payments: PaymentsService,
  ) {}

  @Get('balance')
  @RequireScopes('billing:read')
  @ApiOperation({ summary: 'Available credit and what open holds reserve' })
  balance(@CurrentPrincipal() principal: Principal) {
    return this.billing.balanceView(principal.orgId);
  }

  @Get('transactions')
  @RequireScopes('billing:read')
  @ApiOperation({ summary: 'The statement, newest first; each line traces to a job attempt or a payment' })
  transactions(@CurrentPrincipal() principal: Principal, @Query() query: StatementQueryDto) {
    return this.billing.statement(principal.orgId, query);
  }

  @Get('invoices')
  @RequireScopes('billing:read')
  listInvoices(@CurrentPrincipal() principal: Principal) {
    return this.invoices.list(principal.orgId);
  }

  @Get('invoices/:id')
  @RequireScopes('billing:read')
  getInvoice(@CurrentPrincipal() principal: Principal, @Param('id', invoiceId) id: string) {
    return this.invoices.get(principal.orgId, id);
  }

  @Post('top-ups')
  @RequireScopes('billing:write')
  @ApiOperation({ summary: 'Start a top-up with the payment processor (completes by its signed webhook)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retried request return the top-up it created (200).' })
  async createTopUp(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateTopUpDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @ClientMeta() meta: RequestMeta,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { topUp, created } = await this.payments.createTopUp(principal, body, meta, idempotencyKey);
    res.status(created ? 201 : 200);
    return topUp;
  }

  @Get('top-ups')
  @RequireScopes('billing:read')
  listTopUps(@CurrentPrincipal() principal: Principal) {
    return this.payments.listTopUps(principal);
  }

  @Get('top-ups/:id')
  @RequireScopes('billing:read')
  getTopUp(@CurrentPrincipal() principal: Principal, @Param('id', topUpId) id: string) {
    return this.payments.getTopUp(principal, id);
  }

  @Post('top-ups/:id/simulate-payment')
  @RequireScopes('billing:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Only with PAYMENT_PROCESSOR=test: the test processor completes the payment and delivers its signed webhook' })
  simulatePayment(@CurrentPrincipal() principal: Principal, @Param('id', topUpId) id: string, @Body() body: SimulatePaymentDto) {
    return this.payments.simulatePayment(principal, id, body.outcome ?? 'succeeded');
  }
}
