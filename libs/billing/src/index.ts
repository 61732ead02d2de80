// @anneal/billing: the ledger (pure core + Postgres store), metering, settlement, payments, payouts.

export * from './ledger/ledger.types.js';
export { ACCOUNT_RESULT_MESSAGES, TRANSFER_RESULT_MESSAGES } from './ledger/ledger.messages.js';
export {
  accountIdFor,
  defaultAccountFlags,
  deriveUuid,
  isPlatformKind,
  isUuid,
  newAccountFor,
  orgAccounts,
  platformAccounts,
  providerAccounts,
} from './ledger/account-ids.js';
export {
  Ledger,
  MAX_BALANCE,
  checkLedgerInvariants,
  createAccounts,
  createTransfers,
  emptyLedgerState,
  expirePendingTransfers,
  pendingStatusOf,
  replayBalances,
  type LedgerEffects,
  type LedgerState,
  type TransferBatchResult,
} from './ledger/ledger.core.js';

export {
  SECONDS_PER_HOUR,
  attemptCostMicros,
  billableSeconds,
  usageCostMicros,
  usageKeyForAttempt,
  type AttemptEndReason,
  type MeteredAttempt,
  type UsagePrice,
  type UsageRecord,
} from './metering/metering.js';

export {
  DEFAULT_PLATFORM_FEE_BPS,
  jobHoldId,
  planAttemptSettlement,
  planJobHold,
  planTopUp,
  settlementTransferId,
  type AttemptSettlementInput,
  type AttemptSettlementPlan,
  type JobHoldInput,
  type JobHoldPlan,
  type TopUpInput,
} from './settlement/settlement.planner.js';

export {
  DEFAULT_DISPUTE_WINDOW_MS,
  DEFAULT_MINIMUM_PAYOUT_MICROS,
  payoutCutoff,
  payoutTransferId,
  planPayout,
  planPayoutSettled,
  type PayoutPlan,
  type PayoutPlanInput,
  type PayoutRecord,
} from './payouts/payout.planner.js';

export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  signWebhookPayload,
  verifyWebhookSignature,
  type VerifyWebhookInput,
  type WebhookSignatureErrorCode,
  type WebhookVerification,
} from './payments/webhook-signature.js';
export type {
  CreateTopUpIntentInput,
  PaymentEvent,
  PaymentEventType,
  PaymentProcessor,
  PaymentWebhookErrorCode,
  PaymentWebhookResult,
  TopUpIntent,
} from './payments/payment-processor.port.js';
export { TestPaymentProcessor, parseWireEvent, type SignedWebhook, type TestPaymentProcessorConfig } from './payments/test-payment.processor.js';

export { LEDGER_MIGRATIONS, applyLedgerMigrations, type LedgerMigration, type SqlClient } from './store/ledger.migrations.js';
export {
  PgLedgerStore,
  type CreatePayoutResult,
  type LedgerDbClient,
  type LedgerDbPool,
  type PaymentEventOutcome,
  type PgLedgerStoreOptions,
  type SettlementResult,
  type StatementLine,
  type StatementPage,
  type UsageDetail,
  type UsageRecordResult,
} from './store/ledger.store.js';

export { runLedgerBench, type LedgerBenchOptions, type LedgerBenchResult } from './bench/ledger-bench.js';
