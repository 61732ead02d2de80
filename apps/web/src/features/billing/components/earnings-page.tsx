import { useQuery } from '@tanstack/react-query';
import { ErrorMessage } from '../../../components/error-message.js';
import { EmptyState, Loading, PageHeader } from '../../../components/status.js';
import { formatDate } from '../../../lib/duration.js';
import { formatMicros } from '../../../lib/money.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { getEarnings, listPayouts } from '../api/billing.api.js';
import { StatementTable } from './statement-table.js';
import { DataTable } from '../../../components/data-table.js';

/** A provider's payable balance, payouts, and the earnings lines behind them. */
export function EarningsPage() {
  const api = useApi();
  const { orgId } = useSession();
  const earnings = useQuery({ queryKey: ['billing', orgId, 'earnings'], queryFn: ({ signal }) => getEarnings(api, undefined, signal) });
  const payouts = useQuery({ queryKey: ['billing', orgId, 'payouts'], queryFn: ({ signal }) => listPayouts(api, signal) });
  const data = earnings.data;
  return (
    <>
      <PageHeader title="Earnings" />
      <section className="card" aria-labelledby="earnings-heading">
        <h2 id="earnings-heading">Summary</h2>
        {earnings.isPending ? <Loading /> : null}
        <ErrorMessage error={earnings.error} />
        {data ? (
          <>
            <dl className="stats">
              <div>
                <dt>Payable</dt>
                <dd>{formatMicros(data.payable.micros)}</dd>
              </div>
              <div>
                <dt>Paid out</dt>
                <dd>{formatMicros(data.paidOut.micros)}</dd>
              </div>
              <div>
                <dt>Payouts</dt>
                <dd>{data.payoutCount}</dd>
              </div>
            </dl>
            <p className="muted">
              Earnings are paid out {data.disputeWindowHours} hours after a job ends (the dispute window), once at least {formatMicros(data.minimumPayout.micros)} is payable.
            </p>
            {data.lines.length === 0 ? <EmptyState title="No earnings yet">Each finished job attempt on your nodes adds a line here.</EmptyState> : <StatementTable lines={data.lines} caption="Earnings lines, newest first" />}
          </>
        ) : null}
      </section>
      <section className="card" aria-labelledby="payouts-heading">
        <h2 id="payouts-heading">Payouts</h2>
        {payouts.isPending ? <Loading /> : null}
        <ErrorMessage error={payouts.error} />
        {payouts.data?.payouts.length === 0 ? <EmptyState title="No payouts yet" /> : null}
        {payouts.data && payouts.data.payouts.length > 0 ? (
          <DataTable columns={['Paid', 'Earnings up to', { label: 'Amount', className: 'num' }]}>
            {payouts.data.payouts.map((p) => (
              <tr key={p.id}>
                <td>{formatDate(p.createdAt)}</td>
                <td>{formatDate(p.earningsUpTo)}</td>
                <td className="num">{formatMicros(p.amount.micros)}</td>
              </tr>
            ))}
          
          </DataTable>
        ) : null}
      </section>
    </>
  );
}
