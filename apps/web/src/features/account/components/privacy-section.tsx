import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field } from '../../../components/field.js';
import { Notice } from '../../../components/status.js';
import { formatDate } from '../../../lib/duration.js';
import { navigate } from '../../../lib/router.js';
import type { Me } from '../../auth/api/auth.api.js';
import { useApi } from '../../auth/hooks/use-session.js';
import { formatBytes } from '../../datasets/lib/upload.js';

interface DataExport {
  id: string;
  status: 'queued' | 'running' | 'ready' | 'failed' | 'expired';
  progressPct: number;
  createdAt: string;
  expiresAt: string | null;
  sizeBytes: number | null;
  failure: string | null;
  download: { url: string; expiresAt: string; fileName: string } | null;
}

/** Export all your data (machine-readable), or delete the account. */
export function PrivacySection({ me }: { me: Me }) {
  const api = useApi();
  const [exportId, setExportId] = useState<string | null>(null);
  const start = useMutation({ mutationFn: (fresh: boolean) => api.get<DataExport>(`/v1/me/export${fresh ? '?fresh=true' : ''}`), onSuccess: (e) => setExportId(e.id) });
  const progress = useQuery({
    queryKey: ['me', 'export', exportId],
    queryFn: ({ signal }) => api.get<DataExport>(`/v1/me/exports/${exportId}`, signal),
    enabled: exportId !== null,
    refetchInterval: (query) => (query.state.data && ['ready', 'failed', 'expired'].includes(query.state.data.status) ? false : 1_500),
  });
  const current = progress.data ?? start.data;

  const [confirming, setConfirming] = useState(false);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const remove = useMutation({
    mutationFn: () =>
      api.request<unknown>('/v1/me', {
        method: 'DELETE',
        body: { password, ...(me.twoFactorEnabled ? (/^\d{6}$/.test(code.trim()) ? { totpCode: code.trim() } : { recoveryCode: code.trim() }) : {}) },
      }),
    onSuccess: () => {
      api.clearSession();
      navigate('/login');
    },
  });

  return (
    <section className="card" aria-labelledby="privacy-heading">
      <h2 id="privacy-heading">Your data</h2>
      <p>Download everything Anneal holds about you and your organizations as a machine-readable archive.</p>
      <div className="row">
        <button type="button" className="secondary" onClick={() => start.mutate(current?.status === 'ready')} disabled={start.isPending || (current !== undefined && ['queued', 'running'].includes(current.status))}>
          {current?.status === 'ready' ? 'Make a fresh export' : 'Export my data'}
        </button>
        {current && ['queued', 'running'].includes(current.status) ? (
          <>
            <progress className="progress" max={100} value={current.progressPct} aria-label="Export progress" />
            <span className="muted">{current.progressPct}%</span>
          </>
        ) : null}
      </div>
      {current?.status === 'ready' && current.download ? (
        <Notice tone="success">
          Ready{current.sizeBytes !== null ? ` (${formatBytes(current.sizeBytes)})` : ''}: <a href={current.download.url}>download {current.download.fileName}</a>. The archive is deleted on{' '}
          {current.expiresAt ? formatDate(current.expiresAt) : 'its expiry'}.
        </Notice>
      ) : null}
      {current?.status === 'failed' ? <Notice tone="warning">The export failed: {current.failure ?? 'try again'}.</Notice> : null}
      <ErrorMessage error={start.error ?? progress.error} />

      <h3>Delete your account</h3>
      <p className="muted">Cancels your running jobs, deletes your datasets and models, removes your personal data. Invoices and ledger lines stay, under an anonymous reference.</p>
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete my account…
        </button>
      ) : (
        <form
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            remove.mutate();
          }}
        >
          <Field label="Your password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          {me.twoFactorEnabled ? <Field label="Authentication code or recovery code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} required /> : null}
          <ErrorMessage error={remove.error} />
          <div className="row">
            <button type="submit" className="danger" disabled={remove.isPending || password === ''}>
              {remove.isPending ? 'Deleting…' : 'Delete my account permanently'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Keep my account
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
