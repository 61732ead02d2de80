import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field, SelectField } from '../../../components/field.js';
import { EmptyState, Loading, PageHeader } from '../../../components/status.js';
import { formatDate, formatRelative } from '../../../lib/duration.js';
import { formatPrice } from '../../../lib/money.js';
import { useDebouncedValue } from '../../../lib/use-debounced-value.js';
import { useApi } from '../../auth/hooks/use-session.js';
import { adminNodes, adminUsers, moderationQueue, quarantineNode, reinstateUser, releaseNode, reviewModeration, searchAudit, suspendUser } from '../api/admin.api.js';
import { DataTable } from '../../../components/data-table.js';

/** Asks for the sentence an admin action needs; null when the admin backs out. */
function ask(question: string): string | null {
  const answer = window.prompt(question);
  return answer && answer.trim().length >= 3 ? answer.trim() : null;
}

export function AdminUsersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const settled = useDebouncedValue(search, 300);
  const users = useQuery({ queryKey: ['admin', 'users', settled, status], queryFn: ({ signal }) => adminUsers(api, { q: settled, status }, signal) });
  const act = useMutation({
    mutationFn: ({ id, suspend, reason }: { id: string; suspend: boolean; reason?: string }) => (suspend ? suspendUser(api, id, reason ?? '') : reinstateUser(api, id)),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['admin', 'users'] }),
  });
  return (
    <>
      <PageHeader title="Users" />
      <section className="card">
        <div className="inline-form">
          <Field label="Search by email or name" value={search} onChange={(e) => setSearch(e.target.value)} />
          <SelectField label="Status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">any</option>
            <option value="active">active</option>
            <option value="suspended">suspended</option>
          </SelectField>
        </div>
        {users.isPending ? <Loading /> : null}
        <ErrorMessage error={users.error ?? act.error} />
        {users.data?.items.length === 0 ? <EmptyState title="No users match" /> : null}
        {users.data && users.data.items.length > 0 ? (
          <DataTable columns={['User', 'Status', '2FA', 'Joined', { label: <span className="visually-hidden">Actions</span> }]}>
            {users.data.items.map((u) => (
              <tr key={u.id}>
                <td>
                  {u.name} <span className="muted">{u.email ?? '(deleted)'}</span> {u.isAdmin ? <span className="badge">admin</span> : null}
                  {u.flagged ? <span className="badge badge-warn">flagged by moderation</span> : null}
                </td>
                <td>{u.status === 'active' ? <span className="badge badge-ok">active</span> : <span className="badge badge-off">{u.status}</span>}</td>
                <td>{u.twoFactorEnabled ? 'on' : 'off'}</td>
                <td>{formatDate(u.createdAt).slice(0, 10)}</td>
                <td>
                  {u.status === 'suspended' ? (
                    <button type="button" className="secondary small" onClick={() => act.mutate({ id: u.id, suspend: false })}>
                      Reinstate
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Suspend ${u.name}`}
                      onClick={() => {
                        const reason = ask(`Why suspend ${u.email ?? u.name}? (they are told)`);
                        if (reason) act.mutate({ id: u.id, suspend: true, reason });
                      }}
                    >
                      Suspend
                    </button>
                  )}
                </td>
              </tr>
            ))}
          
          </DataTable>
        ) : null}
      </section>
    </>
  );
}

export function AdminNodesPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [quarantined, setQuarantined] = useState('');
  const nodes = useQuery({ queryKey: ['admin', 'nodes', quarantined], queryFn: ({ signal }) => adminNodes(api, quarantined, signal), refetchInterval: 10_000 });
  const act = useMutation({
    mutationFn: ({ id, reason }: { id: string; reason: string | null }) => (reason ? quarantineNode(api, id, reason) : releaseNode(api, id)),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['admin', 'nodes'] }),
  });
  return (
    <>
      <PageHeader title="Nodes">
        <SelectField label="Show" value={quarantined} onChange={(e) => setQuarantined(e.target.value)} className="compact">
          <option value="">all</option>
          <option value="true">quarantined</option>
          <option value="false">in service</option>
        </SelectField>
      </PageHeader>
      <section className="card">
        {nodes.isPending ? <Loading /> : null}
        <ErrorMessage error={nodes.error ?? act.error} />
        {nodes.data?.items.length === 0 ? <EmptyState title="No nodes" /> : null}
        {nodes.data && nodes.data.items.length > 0 ? (
          <DataTable columns={['Node', 'State', 'GPUs', { label: 'Price / GPU-h', className: 'num' }, { label: 'Reliability', className: 'num' }, { label: <span className="visually-hidden">Actions</span> }]}>
            {nodes.data.items.map((n) => (
              <tr key={n.id}>
                <td>
                  {n.hostname} {n.simulated ? <span className="badge">simulated</span> : null}
                  <small className="muted range">heartbeat {formatRelative(n.lastHeartbeatAt)}</small>
                </td>
                <td>
                  {n.state}
                  {n.quarantinedAt ? <span className="badge badge-off" title={n.quarantineReason ?? ''}>quarantined</span> : null}
                </td>
                <td>
                  {n.gpuCount}× {n.gpuName}
                </td>
                <td className="num">{formatPrice(n.priceMicrosPerGpuHour)}</td>
                <td className="num">
                  {n.reliability === null ? '—' : `${(n.reliability * 100).toFixed(1)}%`}
                  {n.reliabilityPenalty > 0 ? <small className="muted range">penalty {(n.reliabilityPenalty * 100).toFixed(0)}%</small> : null}
                </td>
                <td>
                  {n.quarantinedAt ? (
                    <button type="button" className="secondary small" onClick={() => act.mutate({ id: n.id, reason: null })}>
                      Release
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="danger small"
                      onClick={() => {
                        const reason = ask(`Why quarantine ${n.hostname}? (the provider is told)`);
                        if (reason) act.mutate({ id: n.id, reason });
                      }}
                    >
                      Quarantine
                    </button>
                  )}
                </td>
              </tr>
            ))}
          
          </DataTable>
        ) : null}
      </section>
    </>
  );
}

export function AdminModerationPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState('pending');
  const queue = useQuery({ queryKey: ['admin', 'moderation', status], queryFn: ({ signal }) => moderationQueue(api, status, signal) });
  const review = useMutation({
    mutationFn: ({ id, decision, note }: { id: string; decision: 'uphold' | 'override'; note: string }) => reviewModeration(api, id, decision, note),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['admin', 'moderation'] }),
  });
  const decide = (id: string, decision: 'uphold' | 'override') => {
    const note = ask(decision === 'uphold' ? 'Why uphold the rejection?' : 'Why override it (the subject then counts as passed)?');
    if (note) review.mutate({ id, decision, note });
  };
  return (
    <>
      <PageHeader title="Moderation">
        <SelectField label="Show" value={status} onChange={(e) => setStatus(e.target.value)} className="compact">
          <option value="pending">to review</option>
          <option value="reviewed">reviewed</option>
          <option value="all">all</option>
        </SelectField>
      </PageHeader>
      <section className="card">
        {queue.isPending ? <Loading /> : null}
        <ErrorMessage error={queue.error ?? review.error} />
        {queue.data?.items.length === 0 ? <EmptyState title="Nothing to review" /> : null}
        {queue.data && queue.data.items.length > 0 ? (
          <ul className="plain-list moderation-list">
            {queue.data.items.map((m) => (
              <li key={m.id} className="card">
                <div>
                  <strong>
                    {m.subjectType} {m.subjectName ?? m.subjectId.slice(0, 8)}
                  </strong>{' '}
                  <span className="muted">{formatDate(m.createdAt)}</span> {m.review ? <span className="badge">{m.review.decision === 'uphold' ? 'upheld' : 'overridden'}</span> : null}
                </div>
                <ul>
                  {m.rules.map((r) => (
                    <li key={r.code}>{r.message}</li>
                  ))}
                </ul>
                {m.review ? (
                  <p className="muted">{m.review.note}</p>
                ) : (
                  <div className="row">
                    <button type="button" className="secondary small" onClick={() => decide(m.id, 'uphold')}>
                      Uphold rejection
                    </button>
                    <button type="button" className="small" onClick={() => decide(m.id, 'override')}>
                      Override
                    </button>
                  </div>
                )}
              </li>
            ))}
          </ul>
        ) : null}
      </section>
    </>
  );
}

export function AdminAuditPage() {
  const api = useApi();
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const params = useDebouncedValue({ action, actor }, 300);
  const audit = useQuery({ queryKey: ['admin', 'audit', params], queryFn: ({ signal }) => searchAudit(api, params, signal) });
  return (
    <>
      <PageHeader title="Audit log" />
      <section className="card">
        <div className="inline-form">
          <Field label="Action" placeholder="api_key.revoked" value={action} onChange={(e) => setAction(e.target.value)} />
          <Field label="Actor (user id)" value={actor} onChange={(e) => setActor(e.target.value)} />
        </div>
        {audit.isPending ? <Loading /> : null}
        <ErrorMessage error={audit.error} />
        {audit.data?.items.length === 0 ? <EmptyState title="No entries match" /> : null}
        {audit.data && audit.data.items.length > 0 ? (
          <DataTable columns={['When', 'Action', 'Actor', 'Target']}>
            {audit.data.items.map((a) => (
              <tr key={a.id}>
                <td>{formatDate(a.occurredAt)}</td>
                <td>
                  <code>{a.action}</code>
                </td>
                <td className="mono">{a.actorRef ?? a.actorUserId?.slice(0, 8) ?? 'system'}</td>
                <td className="mono">{a.targetType ? `${a.targetType} ${a.targetId?.slice(0, 8) ?? ''}` : '—'}</td>
              </tr>
            ))}
          
          </DataTable>
        ) : null}
      </section>
    </>
  );
}
