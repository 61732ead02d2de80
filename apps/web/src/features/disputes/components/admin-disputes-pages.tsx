import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field, SelectField } from '../../../components/field.js';
import { EmptyState, Loading, PageHeader } from '../../../components/status.js';
import { formatMicros, parseDollars } from '../../../lib/money.js';
import { Link } from '../../../lib/router.js';
import { useApi } from '../../auth/hooks/use-session.js';
import { adminGetDispute, adminListDisputes, adminResolveDispute, type Dispute, type DisputeResolution } from '../api/disputes.api.js';
import { DisputesTable } from './disputes-pages.js';
import { DisputeView } from './dispute-view.js';

export function AdminDisputesPage() {
  const api = useApi();
  const [status, setStatus] = useState('open');
  const disputes = useQuery({ queryKey: ['admin', 'disputes', status], queryFn: ({ signal }) => adminListDisputes(api, status, signal) });
  return (
    <>
      <PageHeader title="Disputes to decide">
        <SelectField label="Show" value={status} onChange={(e) => setStatus(e.target.value)} className="compact">
          <option value="open">open</option>
          <option value="answered">answered</option>
          <option value="resolved">resolved</option>
          <option value="">all</option>
        </SelectField>
      </PageHeader>
      <section className="card">
        {disputes.isPending ? <Loading /> : null}
        <ErrorMessage error={disputes.error} />
        {disputes.data?.items.length === 0 ? <EmptyState title="Nothing here" /> : null}
        {disputes.data && disputes.data.items.length > 0 ? <DisputesTable items={disputes.data.items} basePath="/admin/disputes" /> : null}
      </section>
    </>
  );
}

function ResolveForm({ dispute }: { dispute: Dispute }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const suggested = dispute.suggestion.outcome as DisputeResolution;
  const [resolution, setResolution] = useState<DisputeResolution>(['full_refund', 'partial_refund', 'rejected'].includes(suggested) ? suggested : 'rejected');
  const [refundUsd, setRefundUsd] = useState(() => formatMicros(dispute.suggestion.refund.micros).replace(/^\$/, '').replace(/,/g, ''));
  const [note, setNote] = useState('');
  const [penalty, setPenalty] = useState('0');
  const [quarantine, setQuarantine] = useState(false);
  useEffect(() => setNote((n) => n || dispute.suggestion.reason), [dispute.suggestion.reason]);
  const resolve = useMutation({
    mutationFn: () =>
      adminResolveDispute(api, dispute.id, {
        resolution,
        note: note.trim(),
        ...(resolution === 'partial_refund' ? { refundUsd: refundUsd.trim() } : {}),
        ...(Number(penalty) > 0 ? { reliabilityPenalty: Number(penalty) } : {}),
        ...(quarantine ? { quarantineNode: true } : {}),
      }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['admin', 'disputes'] }),
  });
  const refundValid = resolution !== 'partial_refund' || (parseDollars(refundUsd) ?? 0n) > 0n;
  return (
    <form
      className="card"
      aria-labelledby="resolve-heading"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        resolve.mutate();
      }}
    >
      <h2 id="resolve-heading">Decide</h2>
      <p className="muted">A refund is a correcting ledger transfer; both parties read the note.</p>
      <div className="grid-2">
        <SelectField label="Resolution" value={resolution} onChange={(e) => setResolution(e.target.value as DisputeResolution)}>
          <option value="full_refund">Full refund ({formatMicros(dispute.charged.micros)})</option>
          <option value="partial_refund">Partial refund</option>
          <option value="rejected">Reject</option>
        </SelectField>
        {resolution === 'partial_refund' ? <Field label="Refund (USD)" inputMode="decimal" value={refundUsd} onChange={(e) => setRefundUsd(e.target.value)} error={refundValid ? undefined : 'Enter a dollar amount like 1.50.'} /> : null}
        <SelectField label="Reliability penalty for the node" value={penalty} onChange={(e) => setPenalty(e.target.value)}>
          <option value="0">none</option>
          <option value="0.1">10%</option>
          <option value="0.25">25%</option>
          <option value="0.5">50%</option>
        </SelectField>
      </div>
      {dispute.nodeId ? (
        <label className="check">
          <input type="checkbox" checked={quarantine} onChange={(e) => setQuarantine(e.target.checked)} /> Quarantine the node until an admin releases it
        </label>
      ) : null}
      <div className="field">
        <label htmlFor="resolution-note">Note to both parties</label>
        <textarea id="resolution-note" rows={3} value={note} onChange={(e) => setNote(e.target.value)} minLength={3} maxLength={5000} required />
      </div>
      <ErrorMessage error={resolve.error} />
      <button type="submit" disabled={resolve.isPending || note.trim().length < 3 || !refundValid}>
        {resolve.isPending ? 'Resolving…' : 'Resolve dispute'}
      </button>
    </form>
  );
}

export function AdminDisputePage({ disputeId }: { disputeId: string }) {
  const api = useApi();
  const dispute = useQuery({ queryKey: ['admin', 'disputes', 'one', disputeId], queryFn: ({ signal }) => adminGetDispute(api, disputeId, signal) });
  const d = dispute.data;
  return (
    <>
      <p>
        <Link to="/admin/disputes">← All disputes</Link>
      </p>
      <PageHeader title="Dispute" />
      {dispute.isPending ? <Loading /> : null}
      <ErrorMessage error={dispute.error} />
      {d ? (
        <>
          <DisputeView dispute={d} showSuggestion />
          {d.status !== 'resolved' ? <ResolveForm dispute={d} /> : null}
        </>
      ) : null}
    </>
  );
}
