import { Inject, Injectable } from '@nestjs/common';
import { accountIdFor } from '@anneal/billing';
import { DataSource } from 'typeorm';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { notFound } from '../../core/errors/app-error.js';
import { Invoice, type InvoiceLine } from './entities/invoice.entity.js';
import { formatUsd, money } from './money.js';

/** The calendar month (UTC) before the one `now` falls in. */
export function previousMonth(now: Date): { period: string; start: Date; end: Date } {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const start = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
  return { period: `${start.getUTCFullYear()}-${String(start.getUTCMonth() + 1).padStart(2, '0')}`, start, end };
}

const CREDIT_CODES = ['refund', 'dispute_resolution', 'correction'];
const INVOICE_CODES = ['charge', 'top_up', ...CREDIT_CODES];

interface LineRow {
  id: string;
  created_at: Date;
  code: string;
  amount: string;
  is_debit: boolean;
  job_id: string | null;
  attempt_id: string | null;
  payment_id: string | null;
  gpu_model: string | null;
  gpu_count: number | null;
  billable_seconds: string | null;
  price_micros_per_gpu_hour: string | null;
  cost_micros: string | null;
}

/**
 * Monthly invoices: for every org with ledger activity in the previous month, its charges (each
 * traceable to a job attempt: GPU, seconds, rate, amount), credits and top-ups, frozen as a snapshot.
 * One per org and month (a unique key): generating again creates nothing. Never deleted.
 */
@Injectable()
export class InvoicesService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  /** Generates the previous month's missing invoices; returns how many were created. */
  async generateMonthlyInvoices(now: Date = this.clock.now()): Promise<{ period: string; created: number; existing: number }> {
    const { period, start, end } = previousMonth(now);
    const orgs: { org_id: string }[] = await this.dataSource.query(
      `SELECT a.owner_id AS org_id FROM ledger_accounts a
        WHERE a.kind = 'org_available'
          AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.org_id = a.owner_id AND i.period = $3)
          AND (EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.debit_account_id = a.id AND t.created_at >= $1 AND t.created_at < $2 AND t.code = ANY($4))
            OR EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.credit_account_id = a.id AND t.created_at >= $1 AND t.created_at < $2 AND t.code = ANY($4)))`,
      [start, end, period, INVOICE_CODES],
    );
    let created = 0;
    for (const { org_id: orgId } of orgs) {
      if (await this.generateInvoice(orgId, period, start, end, now)) created += 1;
    }
    const [{ n }] = await this.dataSource.query(`SELECT count(*)::int AS n FROM invoices WHERE period = $1`, [period]);
    return { period, created, existing: n - created };
  }

  private async generateInvoice(orgId: string, period: string, start: Date, end: Date, now: Date): Promise<boolean> {
    const account = accountIdFor('org_available', orgId);
    const rows: LineRow[] = await this.dataSource.query(
      `SELECT t.id, t.created_at, t.code, t.amount::text AS amount, t.debit_account_id = $1 AS is_debit, t.job_id, t.attempt_id, t.payment_id,
              u.gpu_model, u.gpu_count, u.billable_seconds::text AS billable_seconds,
              u.price_micros_per_gpu_hour::text AS price_micros_per_gpu_hour, u.cost_micros::text AS cost_micros
         FROM ledger_transfers t
         LEFT JOIN ledger_usage_records u ON u.attempt_id = t.attempt_id AND t.code = 'charge'
        WHERE (t.debit_account_id = $1 OR t.credit_account_id = $1)
          AND t.created_at >= $2 AND t.created_at < $3 AND (t.flags & 2) = 0 AND t.code = ANY($4)
        ORDER BY t.seq`,
      [account, start, end, INVOICE_CODES],
    );
    let charges = 0n;
    let credits = 0n;
    let topUps = 0n;
    const lines: InvoiceLine[] = rows.map((row) => {
      const amount = BigInt(row.amount);
      const kind: InvoiceLine['kind'] = row.code === 'top_up' ? 'top_up' : row.is_debit ? 'charge' : 'credit';
      if (kind === 'top_up') topUps += amount;
      else if (kind === 'charge') charges += amount;
      else credits += amount;
      const usage =
        row.gpu_model === null
          ? null
          : {
              gpuModel: row.gpu_model,
              gpuCount: Number(row.gpu_count),
              billableSeconds: Number(row.billable_seconds),
              priceMicrosPerGpuHour: row.price_micros_per_gpu_hour!,
              costMicros: row.cost_micros!,
            };
      return {
        transferId: row.id,
        timestamp: row.created_at.toISOString(),
        kind,
        code: row.code,
        description: describe(row.code, usage, row),
        amountMicros: amount.toString(),
        jobId: row.job_id,
        attemptId: row.attempt_id,
        paymentId: row.payment_id,
        usage,
      };
    });
    const inserted = await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(Invoice)
      .values({
        id: this.newId(),
        orgId,
        period,
        periodStart: start,
        periodEnd: end,
        currency: 'usd',
        chargesMicros: charges,
        creditsMicros: credits,
        topUpsMicros: topUps,
        totalMicros: charges - credits,
        lines,
        createdAt: now,
      })
      .orIgnore()
      .returning(['id'])
      .execute();
    return (inserted.raw as unknown[]).length === 1;
  }

  async list(orgId: string) {
    const invoices = await this.dataSource.manager.find(Invoice, { where: { orgId }, order: { periodStart: 'DESC' }, take: 120 });
    return { invoices: invoices.map((invoice) => summary(invoice)) };
  }

  async get(orgId: string, id: string) {
    const invoice = await this.dataSource.manager.findOneBy(Invoice, { id, orgId });
    if (!invoice) throw notFound('Invoice');
    return {
      ...summary(invoice),
      lines: invoice.lines.map((line) => ({
        ...line,
        amount: money(BigInt(line.amountMicros)),
        usage: line.usage ? { ...line.usage, rate: money(BigInt(line.usage.priceMicrosPerGpuHour)), cost: money(BigInt(line.usage.costMicros)) } : null,
      })),
    };
  }
}

function describe(code: string, usage: InvoiceLine['usage'], row: LineRow): string {
  if (code === 'charge') {
    const what = usage ? `: ${usage.gpuCount}× ${usage.gpuModel} for ${usage.billableSeconds} s at ${formatUsd(BigInt(usage.priceMicrosPerGpuHour))}/GPU-hour` : '';
    return `Job ${row.job_id ?? ''} attempt ${row.attempt_id ?? ''}${what}`.replace(/\s+/g, ' ');
  }
  if (code === 'top_up') return `Top-up (payment ${row.payment_id ?? ''})`;
  if (code === 'refund') return `Refund${row.job_id ? ` for job ${row.job_id}` : ''}`;
  if (code === 'dispute_resolution') return `Dispute resolution${row.job_id ? ` for job ${row.job_id}` : ''}`;
  return 'Correction';
}

function summary(invoice: Invoice) {
  return {
    id: invoice.id,
    period: invoice.period,
    periodStart: invoice.periodStart.toISOString(),
    periodEnd: invoice.periodEnd.toISOString(),
    currency: invoice.currency,
    charges: money(invoice.chargesMicros),
    credits: money(invoice.creditsMicros),
    topUps: money(invoice.topUpsMicros),
    total: money(invoice.totalMicros),
    lineCount: invoice.lines.length,
    createdAt: invoice.createdAt.toISOString(),
  };
}
