import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field } from '../../../components/field.js';
import { EmptyState, Loading, Notice, PageHeader } from '../../../components/status.js';
import { formatDate } from '../../../lib/duration.js';
import { formatMicros, parseDollars } from '../../../lib/money.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { createTopUp, getBalance, getInvoice, getStatement, listInvoices, simulatePayment, type TopUp } from '../api/billing.api.js';
import { StatementTable } from './statement-table.js';
import { DataTable } from '../../../components/data-table.js';

function newIdempotencyKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

function TopUpForm() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [amount, setAmount] = useState('25.00');
  const [pending, setPending] = useState<TopUp | null>(null);
  // One key per attempt at a top-up: a double click or a retry never pays twice.
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['billing'] });
  const start = useMutation({
    mutationFn: (usd: string) => createTopUp(api, usd, idempotencyKey),
    onSuccess: (topUp) => {
      setPending(topUp);
      setIdempotencyKey(newIdempotencyKey());
    },
  });
  const pay = useMutation({
    mutationFn: (topUp: TopUp) => simulatePayment(api, topUp),
    onSuccess: (result) => {
      setPending(result.topUp);
      refresh();
    },
  });
  const micros = parseDollars(amount);
  const valid = micros !== undefined && micros > 0n && micros % 10_000n === 0n;

  return (
    <section className="card" aria-labelledby="topup-heading">
      <h2 id="topup-heading">Add credit</h2>
      <form
        className="inline-form"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          if (valid) start.mutate(amount.trim().replace(/^\$/, '').replace(/,/g, ''));
        }}
      >
        <Field label="Amount (USD)" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} required error={amount !== '' && !valid ? 'Enter an amount in dollars with at most two decimals, like 25.00.' : undefined} />
        <button type="submit" disabled={!valid || start.isPending}>
          {start.isPending ? 'Starting…' : 'Top up'}
        </button>
      </form>
      <ErrorMessage error={start.error} />
      {pending ? (
        <div className="alert alert-info" role="status">
          Top-up of {formatMicros(pending.amount.micros)}: <strong>{pending.status}</strong>.
          {pending.status === 'pending' && pending.checkoutUrl ? (
            <>
              {' '}
              <a href={pending.checkoutUrl}>Pay at the checkout page</a>.
            </>
          ) : null}
          {pending.status === 'pending' && pending.simulatePaymentUrl ? (
            <div className="row">
              <span className="muted">This installation uses the built-in test processor.</span>
              <button type="button" className="small" onClick={() => pay.mutate(pending)} disabled={pay.isPending}>
                {pay.isPending ? 'Paying…' : 'Complete test payment'}
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
      <ErrorMessage error={pay.error} />
    </section>
  );
}

function Invoices() {
  const api = useApi();
  const { orgId } = useSession();
  const [open, setOpen] = useState<string | null>(null);
  const invoices = useQuery({ queryKey: ['billing', orgId, 'invoices'], queryFn: ({ signal }) => listInvoices(api, signal) });
  const detail = useQuery({ queryKey: ['billing', orgId, 'invoice', open], queryFn: ({ signal }) => getInvoice(api, open as string, signal), enabled: open !== null });
  return (
    <section className="card" aria-labelledby="invoices-heading">
      <h2 id="invoices-heading">Invoices</h2>
      {invoices.isPending ? <Loading /> : null}
      <ErrorMessage error={invoices.error} />
      {invoices.data?.invoices.length === 0 ? <EmptyState title="No invoices yet">An invoice is made for each calendar month with activity.</EmptyState> : null}
      {invoices.data && invoices.data.invoices.length > 0 ? (
        <DataTable columns={['Period', { label: 'Charges', className: 'num' }, { label: 'Credits', className: 'num' }, { label: 'Top-ups', className: 'num' }, { label: 'Total', className: 'num' }, 'Lines']}>
          {invoices.data.invoices.map((invoice) => (
            <tr key={invoice.id}>
              <td>{invoice.period}</td>
              <td className="num">{formatMicros(invoice.charges.micros)}</td>
              <td className="num">{formatMicros(invoice.credits.micros)}</td>
              <td className="num">{formatMicros(invoice.topUps.micros)}</td>
              <td className="num">{formatMicros(invoice.total.micros)}</td>
              <td>
                <button type="button" className="link-button" aria-expanded={open === invoice.id} onClick={() => setOpen(open === invoice.id ? null : invoice.id)}>
                  {invoice.lineCount} lines
                </button>
              </td>
            </tr>
          ))}
        
        </DataTable>
      ) : null}
      {open && detail.isPending ? <Loading /> : null}
      <ErrorMessage error={detail.error} />
      {open && detail.data ? (
        <ul className="plain-list" aria-label={`Lines of invoice ${detail.data.period}`}>
          {detail.data.lines.map((line) => (
            <li key={line.transferId}>
              {formatDate(line.timestamp)} — {line.description}: <strong>{formatMicros(line.amount.micros)}</strong>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

export function BillingPage() {
  const api = useApi();
  const { orgId } = useSession();
  const balance = useQuery({ queryKey: ['billing', orgId, 'balance'], queryFn: ({ signal }) => getBalance(api, signal) });
  const statement = useInfiniteQuery({
    queryKey: ['billing', orgId, 'statement'],
    queryFn: ({ pageParam, signal }) => getStatement(api, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const lines = statement.data?.pages.flatMap((p) => p.lines) ?? [];
  return (
    <>
      <PageHeader title="Billing" />
      <section className="card" aria-labelledby="balance-heading">
        <h2 id="balance-heading">Balance</h2>
        {balance.isPending ? <Loading /> : null}
        <ErrorMessage error={balance.error} />
        {balance.data ? (
          <dl className="stats">
            <div>
              <dt>Available</dt>
              <dd data-testid="balance-available">{formatMicros(balance.data.available.micros)}</dd>
            </div>
            <div>
              <dt>Held for running jobs</dt>
              <dd>{formatMicros(balance.data.held.micros)}</dd>
            </div>
            <div>
              <dt>Total</dt>
              <dd>{formatMicros(balance.data.total.micros)}</dd>
            </div>
          </dl>
        ) : null}
        {balance.data && balance.data.available.micros === '0' ? <Notice>Add credit before submitting a job: a job holds its estimated cost while it runs.</Notice> : null}
      </section>
      <TopUpForm />
      <section className="card" aria-labelledby="statement-heading">
        <h2 id="statement-heading">Transactions</h2>
        {statement.isPending ? <Loading /> : null}
        <ErrorMessage error={statement.error} />
        {statement.data && lines.length === 0 ? <EmptyState title="No transactions yet">Top-ups, holds and charges for your jobs appear here.</EmptyState> : null}
        {lines.length > 0 ? <StatementTable lines={lines} caption="Transactions, newest first" /> : null}
        {statement.hasNextPage ? (
          <button type="button" className="secondary" onClick={() => void statement.fetchNextPage()} disabled={statement.isFetchingNextPage}>
            {statement.isFetchingNextPage ? 'Loading…' : 'Show older'}
          </button>
        ) : null}
      </section>
      <Invoices />
    </>
  );
}
