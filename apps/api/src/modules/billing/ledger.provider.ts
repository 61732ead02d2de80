import { randomBytes } from 'node:crypto';
import type { Provider } from '@nestjs/common';
import { PgLedgerStore, TestPaymentProcessor, type LedgerDbPool, type PaymentProcessor } from '@anneal/billing';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { ID_GENERATOR, type IdGenerator } from '../../core/clock/clock.js';
import { LOGGER } from '../../core/logging/logger.js';

/** The process's one ledger store: shared by every caller, so group commit can batch them. */
export const LEDGER_STORE = Symbol('LEDGER_STORE');
/** The configured payment processor (`PAYMENT_PROCESSOR`). */
export const PAYMENT_PROCESSOR = Symbol('PAYMENT_PROCESSOR');

/** The name of the header that carries a payment webhook's signature (`t=…,v1=…`). */
export const PAYMENT_SIGNATURE_HEADER = 'anneal-signature';

export const ledgerStoreProvider: Provider = {
  provide: LEDGER_STORE,
  inject: [DataSource],
  // TypeORM's own pg pool: the ledger's short transactions share the API's connections.
  useFactory: (dataSource: DataSource) => new PgLedgerStore((dataSource.driver as unknown as { master: LedgerDbPool }).master),
};

export const paymentProcessorProvider: Provider = {
  provide: PAYMENT_PROCESSOR,
  inject: [APP_CONFIG, ID_GENERATOR, LOGGER],
  useFactory: (config: AppConfig, newId: IdGenerator, logger: Logger): PaymentProcessor => {
    let webhookSecret = config.PAYMENT_WEBHOOK_SECRET;
    if (!webhookSecret) {
      // Only outside production (the config refuses a missing secret there): valid for this process only.
      webhookSecret = randomBytes(32).toString('base64url');
      logger.warn('PAYMENT_WEBHOOK_SECRET is not set: payment webhooks are signed with a random secret valid for this process only');
    }
    switch (config.PAYMENT_PROCESSOR) {
      case 'test':
        return new TestPaymentProcessor({ webhookSecret, newId, checkoutBaseUrl: 'https://checkout.test-processor.invalid' });
    }
  },
};
