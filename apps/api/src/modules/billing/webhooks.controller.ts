import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../auth/public.decorator.js';
import { PAYMENT_SIGNATURE_HEADER } from './ledger.provider.js';
import { PaymentsService } from './payments.service.js';

/** Webhooks from the payment processor: no token, the signature over the raw body is the proof. */
@ApiTags('billing')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly payments: PaymentsService) {}

  @Post('payments')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: `Payment processor events, signed in the \`${PAYMENT_SIGNATURE_HEADER}\` header (t=<unix>,v1=<hex HMAC-SHA256>)` })
  receive(@Req() request: Request & { rawBody?: Buffer }, @Headers(PAYMENT_SIGNATURE_HEADER) signature: string | undefined) {
    return this.payments.handleWebhook(request.rawBody, signature);
  }
}
