import { Module } from '@nestjs/common';
import { AdminBillingController } from './admin-billing.controller.js';
import { BillingController } from './billing.controller.js';
import { BillingScheduler } from './billing.scheduler.js';
import { BillingService } from './billing.service.js';
import { InvoicesService } from './invoices.service.js';
import { ledgerStoreProvider, paymentProcessorProvider } from './ledger.provider.js';
import { PaymentsService } from './payments.service.js';
import { PayoutsService } from './payouts.service.js';
import { ProviderEarningsController } from './provider-earnings.controller.js';
import { WebhooksController } from './webhooks.controller.js';

/**
 * Billing: the ledger store (one per process), top-ups and payment webhooks, statements, monthly
 * invoices, provider earnings and payouts, and their crons. Exports `BillingService` for jobs
 * (holds, live cost, settlement, balance).
 */
@Module({
  controllers: [BillingController, WebhooksController, ProviderEarningsController, AdminBillingController],
  providers: [ledgerStoreProvider, paymentProcessorProvider, BillingService, PaymentsService, InvoicesService, PayoutsService, BillingScheduler],
  exports: [BillingService],
})
export class BillingModule {}
