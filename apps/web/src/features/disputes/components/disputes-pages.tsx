import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { SelectField } from '../../../components/field.js';
import { EmptyState, Loading, Notice, PageHeader } from '../../../components/status.js';
import { formatDate } from '../../../lib/duration.js';
import { formatMicros } from '../../../lib/money.js';
import { Link, navigate } from '../../../lib/router.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { DISPUTE_REASONS, getDispute, listDisputes, openDispute, reasonLabel, respondDispute, type DisputeReason, type DisputeSummary } from '../api/disputes.api.js';
import { DisputeStatusBadge } from './dispute-status.js';
import { DisputeView } from './dispute-view.js';
import { DataTable } from '../../../components/data-table.js';

export function DisputesTable({ items, basePath }: { items: DisputeSummary[]; basePath: string }) {
  return (
    <DataTable columns={['Opened', 'Reason', 'Your side', { label: 'Charged', className: 'num' }, 'Status']}>
      {items.map((d) => (
        <tr key={d.id} data-testid="dispute-row">
          <td>
            <Link to={`${basePath}/${d.id}`}>{formatDate(d.createdAt)}</Link>
          </td>
          <td>{reasonLabel(d.reason)}</td>
          <td>{d.role}</td>
          <td className="num">{formatMicros(d.charged.micros)}</td>
          <td>
            <DisputeStatusBadge status={d.status} resolution={d.resolution} />
          </td>
        </tr>
      ))}
    
    </DataTable>
  );
}

export function DisputesPage() {
  const api = useApi();
  const { orgId } = useSession();
  const disputes = useQuery({ queryKey: ['disputes', orgId], queryFn: ({ signal }) => listDisputes(api, signal) });
  return (
    <>
      <PageHeader title="Disputes" />
      <p className="muted">Disputes about jobs you ran, and about jobs that ran on your nodes. Open one from the job's page.</p>
      <section className="card">
        {disputes.isPending ? <Loading /> : null}
        <ErrorMessage error={disputes.error} />
        {disputes.data?.items.length === 0 ? <EmptyState title="No disputes">If a job went wrong, open a dispute from its page within the dispute window.</EmptyState> : null}
        {disputes.data && disputes.data.items.length > 0 ? <DisputesTable items={disputes.data.items} basePath="/disputes" /> : null}
      </section>
    </>
  );
}

function RespondForm({ disputeId }: { disputeId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [statement, setStatement] = useState('');
  const respond = useMutation({ mutationFn: () => respondDispute(api, disputeId, statement.trim()), onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['disputes'] }) });
  return (
    <form
      className="card"
      aria-labelledby="respond-heading"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        respond.mutate();
      }}
    >
      <h2 id="respond-heading">Your answer</h2>
      <p className="muted">You answer once; an administrator decides from the evidence and both statements.</p>
      <div className="field">
        <label htmlFor="statement">Statement</label>
        <textarea id="statement" rows={4} value={statement} onChange={(e) => setStatement(e.target.value)} minLength={10} maxLength={5000} required />
      </div>
      <ErrorMessage error={respond.error} />
      <button type="submit" disabled={respond.isPending || statement.trim().length < 10}>
        Send answer
      </button>
    </form>
  );
}

export function DisputeDetailPage({ disputeId }: { disputeId: string }) {
  const api = useApi();
  const { orgId } = useSession();
  const dispute = useQuery({ queryKey: ['disputes', orgId, disputeId], queryFn: ({ signal }) => getDispute(api, disputeId, signal) });
  const d = dispute.data;
  return (
    <>
      <p>
        <Link to="/disputes">← All disputes</Link>
      </p>
      <PageHeader title="Dispute" />
      {dispute.isPending ? <Loading /> : null}
      <ErrorMessage error={dispute.error} />
      {d ? (
        <>
          <DisputeView dispute={d} showSuggestion={false} />
          {d.role === 'provider' && !d.providerStatement && d.status !== 'resolved' ? <RespondForm disputeId={d.id} /> : null}
        </>
      ) : null}
    </>
  );
}

/** On a finished job's page: dispute its most expensive ended attempt (or a chosen one). */
export function OpenDisputeForm({ jobId, attempts }: { jobId: string; attempts: { id: string; number: number; status: string }[] }) {
  const api = useApi();
  const [reason, setReason] = useState<DisputeReason>('node_failed');
  const [description, setDescription] = useState('');
  const [attemptId, setAttemptId] = useState('');
  const [open, setOpen] = useState(false);
  const ended = attempts.filter((a) => a.status === 'ended');
  const submit = useMutation({
    mutationFn: () => openDispute(api, { jobId, reason, description: description.trim(), ...(attemptId ? { attemptId } : {}) }),
    onSuccess: (d) => navigate(`/disputes/${d.id}`),
  });
  if (ended.length === 0) return null;
  if (!open)
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Something went wrong? Open a dispute
      </button>
    );
  return (
    <form
      className="card"
      aria-labelledby="open-dispute-heading"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        submit.mutate();
      }}
    >
      <h2 id="open-dispute-heading">Open a dispute</h2>
      <Notice>Anneal gathers the evidence (heartbeats, the GPU the machine reported, step times against the benchmark, metering and ledger lines); an administrator decides.</Notice>
      <SelectField label="What went wrong" value={reason} onChange={(e) => setReason(e.target.value as DisputeReason)}>
        {DISPUTE_REASONS.map((r) => (
          <option key={r.value} value={r.value}>
            {r.label}
          </option>
        ))}
      </SelectField>
      {ended.length > 1 ? (
        <SelectField label="Attempt" value={attemptId} onChange={(e) => setAttemptId(e.target.value)}>
          <option value="">The one that cost the most</option>
          {ended.map((a) => (
            <option key={a.id} value={a.id}>
              Attempt {a.number}
            </option>
          ))}
        </SelectField>
      ) : null}
      <div className="field">
        <label htmlFor="dispute-description">In your words</label>
        <textarea id="dispute-description" rows={4} value={description} onChange={(e) => setDescription(e.target.value)} minLength={10} maxLength={5000} required />
        <small className="hint">At least 10 characters.</small>
      </div>
      <ErrorMessage error={submit.error} />
      <div className="row">
        <button type="submit" disabled={submit.isPending || description.trim().length < 10}>
          Open dispute
        </button>
        <button type="button" className="secondary" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
