import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field } from '../../../components/field.js';
import { Loading, PageHeader } from '../../../components/status.js';
import { formatDate } from '../../../lib/duration.js';
import type { Me, OrgSummary } from '../../auth/api/auth.api.js';
import { useApi } from '../../auth/hooks/use-session.js';
import { PrivacySection } from './privacy-section.js';
import { AcceptInvite, OrgMembers, type Member } from './org-members.js';
import { TwoFactorSection } from './two-factor-section.js';
import { useLocation } from '../../../lib/router.js';
import { DataTable } from '../../../components/data-table.js';


function OrganizationsSection({ me }: { me: Me }) {
  const api = useApi();
  const { search } = useLocation();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: (orgName: string) => api.post<OrgSummary>('/v1/orgs', { name: orgName }),
    onSuccess: () => {
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const members = useQuery({
    queryKey: ['orgs', me.actingOrgId, 'members'],
    queryFn: ({ signal }) => api.get<Member[]>(`/v1/orgs/${me.actingOrgId}/members`, signal),
  });
  return (
    <section className="card" aria-labelledby="orgs-heading">
      <h2 id="orgs-heading">Organizations</h2>
      <DataTable columns={['Name', 'Your role', 'Provider']}>
        {me.organizations.map((org) => (
          <tr key={org.id}>
            <td>
              {org.name} {org.personal ? <span className="badge">personal</span> : null} {org.id === me.actingOrgId ? <span className="badge badge-ok">acting</span> : null}
            </td>
            <td>{org.role}</td>
            <td>{org.providerEnabled ? 'enabled' : '—'}</td>
          </tr>
        ))}
      
      </DataTable>
      <h3>Members of the acting organization</h3>
      {members.isPending ? <Loading /> : null}
      <ErrorMessage error={members.error} />
      {members.data ? <OrgMembers me={me} members={members.data} /> : null}
      <h3>Join an organization</h3>
      <AcceptInvite initialToken={search.get('invite') ?? ''} />
      <h3>New organization</h3>
      <form
        className="inline-form"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          create.mutate(name.trim());
        }}
      >
        <Field label="New organization name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        <button type="submit" disabled={create.isPending || name.trim() === ''}>
          Create organization
        </button>
      </form>
      <ErrorMessage error={create.error} />
    </section>
  );
}

export function AccountPage({ me }: { me: Me }) {
  return (
    <>
      <PageHeader title="Account" />
      <section className="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading">Profile</h2>
        <dl className="facts">
          <dt>Name</dt>
          <dd>{me.name}</dd>
          <dt>Email</dt>
          <dd>{me.email}</dd>
          <dt>Member since</dt>
          <dd>{formatDate(me.createdAt)}</dd>
          {me.isAdmin ? (
            <>
              <dt>Platform role</dt>
              <dd>administrator</dd>
            </>
          ) : null}
        </dl>
      </section>
      <TwoFactorSection me={me} />
      <OrganizationsSection me={me} />
      <PrivacySection me={me} />
    </>
  );
}
