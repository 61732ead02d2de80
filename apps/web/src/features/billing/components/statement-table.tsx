import { formatDate } from '../../../lib/duration.js';
import { formatMicros } from '../../../lib/money.js';
import type { StatementLine } from '../api/billing.api.js';
import { DataTable } from '../../../components/data-table.js';

const HOLD_ENDED: Record<string, string> = { posted: 'settled', voided: 'released', expired: 'expired' };

/** Ledger lines, newest first: credits positive, debits negative, each with what it traces to. */
export function StatementTable({ lines, caption }: { lines: StatementLine[]; caption: string }) {
  return (
    <DataTable columns={['When', 'Description', { label: 'Amount', className: 'num' }]} caption={caption}>
      {lines.map((line) => (
        <tr key={line.id}>
          <td>{formatDate(line.timestamp)}</td>
          <td>
            {line.description}
            {line.holdStatus === 'pending' ? <span className="badge badge-warn">held</span> : null}
            {line.holdStatus && line.holdStatus !== 'pending' ? <span className="badge">hold {HOLD_ENDED[line.holdStatus] ?? line.holdStatus}</span> : null}
            {line.jobId ? <small className="muted mono"> job {line.jobId.slice(0, 8)}</small> : null}
          </td>
          {line.holdStatus && line.holdStatus !== 'pending' ? (
            // A hold that has ended moved no money by itself: the charge and the release lines did.
            <td className="num muted" title="This hold has ended; the charge and release lines show what moved.">
              ({formatMicros(line.amount.micros)})
            </td>
          ) : (
            <td className={`num ${line.signedAmount.micros.startsWith('-') ? 'debit' : 'credit'}`}>{formatMicros(line.signedAmount.micros, { signed: true })}</td>
          )}
        </tr>
      ))}
    
    </DataTable>
  );
}
