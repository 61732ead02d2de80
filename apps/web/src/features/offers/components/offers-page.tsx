import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { SelectField } from '../../../components/field.js';
import { EmptyState, Loading, Notice, PageHeader } from '../../../components/status.js';
import { formatPrice } from '../../../lib/money.js';
import { Link } from '../../../lib/router.js';
import { useApi } from '../../auth/hooks/use-session.js';
import { listGpuTypes } from '../../estimates/api/estimates.api.js';
import { DataTable } from '../../../components/data-table.js';

interface Offer {
  providerKind: string;
  offerId: string;
  gpuModelId: string;
  gpuName: string;
  gpuCount: number;
  vramGb: number;
  region: string;
  spot: boolean;
  priceMicrosPerGpuHour: string;
  reliability: number;
  availability: 'available' | 'likely' | 'unavailable' | string;
  simulated: boolean;
}

/** Every offer across providers, cheapest first (`GET /v1/offers`). */
export function OffersPage() {
  const api = useApi();
  const [gpuModel, setGpuModel] = useState('');
  const [providerKind, setProviderKind] = useState('');
  const gpuTypes = useQuery({ queryKey: ['gpu-types'], queryFn: ({ signal }) => listGpuTypes(api, signal), staleTime: Infinity });
  const params = new URLSearchParams(Object.entries({ gpuModel, providerKind }).filter(([, v]) => v !== ''));
  const offers = useQuery({
    queryKey: ['offers', gpuModel, providerKind],
    queryFn: ({ signal }) => api.get<{ offers: Offer[]; failures: { providerKind?: string; message?: string }[] }>(`/v1/offers${params.size ? `?${params}` : ''}`, signal),
    refetchInterval: 15_000,
  });
  return (
    <>
      <PageHeader title="GPU offers" />
      <p className="muted">
        What can run your job now, cheapest first. <Link to="/jobs/new">New job</Link> estimates runtime and cost on each.
      </p>
      <section className="card">
        <div className="inline-form">
          <SelectField label="GPU model" value={gpuModel} onChange={(e) => setGpuModel(e.target.value)}>
            <option value="">any</option>
            {(gpuTypes.data ?? []).map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Provider" value={providerKind} onChange={(e) => setProviderKind(e.target.value)}>
            <option value="">any</option>
            <option value="community">community</option>
            <option value="gcp">gcp</option>
            <option value="runpod">runpod</option>
          </SelectField>
        </div>
        {offers.isPending ? <Loading /> : null}
        <ErrorMessage error={offers.error} />
        {offers.data?.failures.length ? <Notice tone="warning">Some providers did not answer: {offers.data.failures.map((f) => f.providerKind ?? f.message).join(', ')}.</Notice> : null}
        {offers.data?.offers.length === 0 ? <EmptyState title="No offers match">Try another GPU model or provider.</EmptyState> : null}
        {offers.data && offers.data.offers.length > 0 ? (
          <DataTable columns={['GPUs', 'Provider', 'Region', { label: 'Price / GPU-h', className: 'num' }, { label: 'Reliability', className: 'num' }, 'Availability']}>
            {offers.data.offers.map((o) => (
              <tr key={o.offerId} data-testid="offer-row">
                <td>
                  {o.gpuCount}× {o.gpuName} <span className="muted">{o.vramGb} GB</span>
                  {o.simulated ? <span className="badge">simulated</span> : null}
                </td>
                <td>
                  {o.providerKind}
                  {o.spot ? <span className="badge badge-warn">spot</span> : null}
                </td>
                <td>{o.region}</td>
                <td className="num">{formatPrice(o.priceMicrosPerGpuHour)}</td>
                <td className="num">{(o.reliability * 100).toFixed(1)}%</td>
                <td>
                  <span className={`badge ${o.availability === 'available' ? 'badge-ok' : o.availability === 'likely' ? 'badge-warn' : 'badge-off'}`}>{o.availability}</span>
                </td>
              </tr>
            ))}
          
          </DataTable>
        ) : null}
      </section>
    </>
  );
}
