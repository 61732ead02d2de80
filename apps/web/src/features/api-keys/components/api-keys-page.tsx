import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { CopyButton } from '../../../components/copy-button.js';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field } from '../../../components/field.js';
import { EmptyState, Loading, Notice, PageHeader } from '../../../components/status.js';
import { formatDate, formatRelative } from '../../../lib/duration.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { createApiKey, listApiKeys, revokeApiKey, SCOPES, type ApiKey, type Scope } from '../api/api-keys.api.js';
import { DataTable } from '../../../components/data-table.js';

const DEFAULT_SCOPES: Scope[] = ['jobs:read', 'jobs:write', 'datasets:read', 'datasets:write'];

function CreateKeyForm({ onCreated }: { onCreated: (key: ApiKey & { key: string }) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(DEFAULT_SCOPES);
  const create = useMutation({
    mutationFn: () => createApiKey(api, { name: name.trim(), scopes }),
    onSuccess: (created) => {
      setName('');
      setScopes(DEFAULT_SCOPES);
      onCreated(created);
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  function toggle(scope: Scope) {
    setScopes((current) => (current.includes(scope) ? current.filter((s) => s !== scope) : [...current, scope]));
  }
  return (
    <form
      className="card"
      aria-labelledby="new-key-heading"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <h2 id="new-key-heading">New API key</h2>
      <Field label="Key name" placeholder="CI pipeline" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
      <fieldset className="scopes">
        <legend>Scopes</legend>
        {SCOPES.map((scope) => (
          <label key={scope} className="check">
            <input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} /> <code>{scope}</code>
          </label>
        ))}
      </fieldset>
      <ErrorMessage error={create.error} />
      <button type="submit" disabled={create.isPending || name.trim() === '' || scopes.length === 0}>
        {create.isPending ? 'Creating…' : 'Create key'}
      </button>
    </form>
  );
}

export function ApiKeysPage() {
  const api = useApi();
  const { orgId } = useSession();
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const keys = useQuery({ queryKey: ['api-keys', orgId], queryFn: ({ signal }) => listApiKeys(api, signal) });
  const revoke = useMutation({
    mutationFn: (id: string) => revokeApiKey(api, id),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['api-keys'] }),
  });

  return (
    <>
      <PageHeader title="API keys" />
      <p className="muted">Keys act for the current organization with the scopes you choose. Use one as <code>Authorization: Bearer ak_…</code>.</p>
      {created ? (
        <section className="card highlight" aria-labelledby="created-key-heading">
          <h2 id="created-key-heading">Key “{created.name}” created</h2>
          <Notice tone="warning">Copy this key now: Anneal stores only a hash of it and cannot show it again.</Notice>
          <div className="secret-row">
            <code className="secret" data-testid="new-api-key">
              {created.key}
            </code>
            <CopyButton text={created.key} />
          </div>
          <button type="button" className="secondary" onClick={() => setCreated(null)}>
            Done
          </button>
        </section>
      ) : null}
      <CreateKeyForm onCreated={setCreated} />
      <section className="card" aria-labelledby="keys-heading">
        <h2 id="keys-heading">Your keys</h2>
        {keys.isPending ? <Loading /> : null}
        <ErrorMessage error={keys.error} />
        <ErrorMessage error={revoke.error} />
        {keys.data && keys.data.length === 0 ? <EmptyState title="No API keys yet">Create one above to call the API from scripts and CI.</EmptyState> : null}
        {keys.data && keys.data.length > 0 ? (
          <DataTable columns={['Name', 'Prefix', 'Scopes', 'Created', 'Last used', 'Status']}>
            {keys.data.map((key) => (
              <tr key={key.id} data-testid={`api-key-${key.prefix}`}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td className="scope-list">{key.scopes.join(', ')}</td>
                <td>{formatDate(key.createdAt)}</td>
                <td>{formatRelative(key.lastUsedAt)}</td>
                <td>
                  {key.revokedAt ? (
                    <span className="badge badge-off">revoked</span>
                  ) : (
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Revoke ${key.name}`}
                      disabled={revoke.isPending}
                      onClick={() => {
                        if (window.confirm(`Revoke “${key.name}”? Anything using it stops working at once.`)) revoke.mutate(key.id);
                      }}
                    >
                      Revoke
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
