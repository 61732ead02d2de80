import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field, SelectField } from '../../../components/field.js';
import { Notice } from '../../../components/status.js';
import { formatDate } from '../../../lib/duration.js';
import type { Me } from '../../auth/api/auth.api.js';
import { useApi } from '../../auth/hooks/use-session.js';

type Role = 'owner' | 'admin' | 'member';
export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: string;
}

/** Members of the acting org: owners and admins change roles, remove members and invite. */
export function OrgMembers({ me, members }: { me: Me; members: Member[] }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const myRole = me.organizations.find((o) => o.id === me.actingOrgId)?.role;
  const manage = myRole === 'owner' || myRole === 'admin';
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['orgs', me.actingOrgId, 'members'] });
  const changeRole = useMutation({ mutationFn: ({ userId, role }: { userId: string; role: Role }) => api.patch(`/v1/orgs/${me.actingOrgId}/members/${userId}`, { role }), onSuccess: refresh });
  const remove = useMutation({ mutationFn: (userId: string) => api.delete(`/v1/orgs/${me.actingOrgId}/members/${userId}`), onSuccess: refresh });
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const invite = useMutation({
    mutationFn: () => api.post<{ email: string; role: Role; expiresAt: string }>(`/v1/orgs/${me.actingOrgId}/invites`, { email: email.trim(), role }),
    onSuccess: () => setEmail(''),
  });
  return (
    <>
      <ul className="plain-list">
        {members.map((m) => (
          <li key={m.userId} className="member-row">
            <span>
              {m.name} <span className="muted">{m.email}</span>
            </span>
            {manage && m.userId !== me.id ? (
              <span className="row">
                <select aria-label={`Role of ${m.name}`} value={m.role} onChange={(e) => changeRole.mutate({ userId: m.userId, role: e.target.value as Role })}>
                  <option value="owner">owner</option>
                  <option value="admin">admin</option>
                  <option value="member">member</option>
                </select>
                <button
                  type="button"
                  className="danger small"
                  aria-label={`Remove ${m.name}`}
                  onClick={() => {
                    if (window.confirm(`Remove ${m.name} from this organization?`)) remove.mutate(m.userId);
                  }}
                >
                  Remove
                </button>
              </span>
            ) : (
              <span className="badge">{m.role}</span>
            )}
          </li>
        ))}
      </ul>
      <ErrorMessage error={changeRole.error ?? remove.error} />
      {manage ? (
        <form
          className="inline-form"
          aria-label="Invite a member"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            invite.mutate();
          }}
        >
          <Field label="Invite by email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
          <SelectField label="As" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="member">member</option>
            <option value="admin">admin</option>
            <option value="owner">owner</option>
          </SelectField>
          <button type="submit" disabled={invite.isPending || email.trim() === ''}>
            Send invitation
          </button>
        </form>
      ) : null}
      {invite.data ? (
        <Notice tone="success">
          Invitation sent to {invite.data.email} as {invite.data.role}; it works until {formatDate(invite.data.expiresAt)}.
        </Notice>
      ) : null}
      <ErrorMessage error={invite.error} />
    </>
  );
}

/** Accept an invitation with the token from the email (prefilled from `?invite=`). */
export function AcceptInvite({ initialToken }: { initialToken: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [token, setToken] = useState(initialToken);
  const accept = useMutation({
    mutationFn: () => api.post<{ id: string; name: string }>('/v1/invites/accept', { token: token.trim() }),
    onSuccess: (org) => {
      setToken('');
      api.setOrgId(org.id);
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
  return (
    <form
      className="inline-form"
      aria-label="Accept an invitation"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        accept.mutate();
      }}
    >
      <Field label="Invitation token" placeholder="inv_…" value={token} onChange={(e) => setToken(e.target.value)} required autoComplete="off" />
      <button type="submit" className="secondary" disabled={accept.isPending || token.trim() === ''}>
        Join organization
      </button>
      <ErrorMessage error={accept.error} />
      {accept.data ? <Notice tone="success">You joined {accept.data.name}; it is now the organization you act for.</Notice> : null}
    </form>
  );
}
