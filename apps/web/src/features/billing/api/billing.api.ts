import type { ApiClient } from '../../../lib/api-client.js';

/** Money as the API sends it: integer micro-dollars as a string, and its own USD rendering. */
export interface Money {
  micros: string;
  usd: string;
}

export interface Balance {
  orgId: string;
  currency: 'usd';
  available: Money;
  held: Money;
  total: Money;
}

export interface StatementLine {
  id: string;
  cursor: string;
  timestamp: string;
  type: string;
  description: string;
  direction: 'debit' | 'credit';
  amount: Money;
  signedAmount: Money;
  holdStatus: string | null;
  jobId: string | null;
  attemptId: string | null;
  paymentId: string | null;
  disputeId: string | null;
  payoutId: string | null;
  usage: { gpuModel: string; gpuCount: number; billableSeconds: number; rate: Money; cost: Money; charged: Money } | null;
}

export interface Statement {
  lines: StatementLine[];
  nextCursor: string | null;
}

export interface InvoiceSummary {
  id: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  charges: Money;
  credits: Money;
  topUps: Money;
  total: Money;
  lineCount: number;
  createdAt: string;
}

export interface InvoiceLine {
  transferId: string;
  timestamp: string;
  kind: string;
  code: string;
  description: string;
  amount: Money;
}

export interface TopUp {
  id: string;
  status: 'pending' | 'succeeded' | 'failed';
  amount: Money;
  processor: string;
  paymentId: string;
  checkoutUrl: string | null;
  simulatePaymentUrl: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface Earnings {
  orgId: string;
  payable: Money;
  paidOut: Money;
  payoutCount: number;
  disputeWindowHours: number;
  minimumPayout: Money;
  lines: StatementLine[];
  nextCursor: string | null;
}

export interface Payout {
  id: string;
  amount: Money;
  earningsUpTo: string;
  transferId: string;
  createdAt: string;
}

const page = (cursor: string | undefined, limit: number) => `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;

export const getBalance = (api: ApiClient, signal?: AbortSignal) => api.get<Balance>('/v1/billing/balance', signal);
export const getStatement = (api: ApiClient, cursor?: string, signal?: AbortSignal) => api.get<Statement>(`/v1/billing/transactions${page(cursor, 25)}`, signal);
export const listInvoices = (api: ApiClient, signal?: AbortSignal) => api.get<{ invoices: InvoiceSummary[] }>('/v1/billing/invoices', signal);
export const getInvoice = (api: ApiClient, id: string, signal?: AbortSignal) => api.get<InvoiceSummary & { lines: InvoiceLine[] }>(`/v1/billing/invoices/${encodeURIComponent(id)}`, signal);
export const createTopUp = (api: ApiClient, amountUsd: string, idempotencyKey: string) => api.post<TopUp>('/v1/billing/top-ups', { amountUsd }, { idempotencyKey });
export const simulatePayment = (api: ApiClient, topUp: TopUp) => api.post<{ topUp: TopUp }>(topUp.simulatePaymentUrl ?? `/v1/billing/top-ups/${topUp.id}/simulate-payment`, { outcome: 'succeeded' });
export const getEarnings = (api: ApiClient, cursor?: string, signal?: AbortSignal) => api.get<Earnings>(`/v1/provider/earnings${page(cursor, 20)}`, signal);
export const listPayouts = (api: ApiClient, signal?: AbortSignal) => api.get<{ payouts: Payout[]; nextCursor: string | null }>('/v1/provider/payouts?limit=20', signal);
