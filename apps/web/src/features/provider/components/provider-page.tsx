import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ErrorMessage } from '../../../components/error-message.js';
import { Notice, PageHeader } from '../../../components/status.js';
import type { Me } from '../../auth/api/auth.api.js';
import { actingOrg, useApi } from '../../auth/hooks/use-session.js';
import { AddNode } from './add-node.js';
import { NodesList } from './nodes-list.js';

/** Turns the provider role on for the acting organization (owners and admins). */
function EnableProvider({ me }: { me: Me }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const org = actingOrg(me);
  const enable = useMutation({
    mutationFn: () => api.post(`/v1/orgs/${me.actingOrgId}/provider`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['me'] }),
  });
  const canEnable = org?.role === 'owner' || org?.role === 'admin';
  return (
    <section className="card" aria-labelledby="enable-heading">
      <h2 id="enable-heading">List your GPUs on Anneal</h2>
      <p>
        Providers run <code>anneal-agent</code> on a GPU host. The agent reports its GPUs and health; you set the price per GPU-hour and Anneal
        sends matching fine-tuning jobs. Earnings are paid out after the dispute window.
      </p>
      {canEnable ? (
        <button type="button" onClick={() => enable.mutate()} disabled={enable.isPending}>
          {enable.isPending ? 'Enabling…' : `Enable provider role for ${org?.name ?? 'this organization'}`}
        </button>
      ) : (
        <Notice>Ask an owner or admin of {org?.name ?? 'this organization'} to enable the provider role.</Notice>
      )}
      <ErrorMessage error={enable.error} />
    </section>
  );
}

export function ProviderPage({ me }: { me: Me }) {
  const org = actingOrg(me);
  return (
    <>
      <PageHeader title={org?.providerEnabled ? 'Nodes' : 'Provide GPUs'} />
      {org?.providerEnabled ? (
        <>
          <AddNode />
          <NodesList />
        </>
      ) : (
        <EnableProvider me={me} />
      )}
    </>
  );
}
