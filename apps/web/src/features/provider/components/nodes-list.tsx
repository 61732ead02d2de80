import { useQuery } from '@tanstack/react-query';
import { ErrorMessage } from '../../../components/error-message.js';
import { EmptyState, Loading } from '../../../components/status.js';
import { formatRelative } from '../../../lib/duration.js';
import { formatPrice } from '../../../lib/money.js';
import { Link } from '../../../lib/router.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { listNodes, type GpuTelemetry } from '../api/nodes.api.js';
import { StatusBadge } from './node-controls.js';
import { DataTable } from '../../../components/data-table.js';

export const NODE_POLL_MS = 5_000;

function average(gpus: GpuTelemetry[], field: 'utilizationPct' | 'temperatureC'): string {
  const values = gpus.map((g) => g[field]).filter((v): v is number => typeof v === 'number');
  if (values.length === 0) return '—';
  return String(Math.round(values.reduce((a, b) => a + b, 0) / values.length));
}

export function formatReliability(value: number): string {
  return `${(Math.round(value * 1000) / 10).toFixed(1)}%`;
}

/** The provider's nodes with live status, refreshed every few seconds. */
export function NodesList() {
  const api = useApi();
  const { orgId } = useSession();
  const nodes = useQuery({ queryKey: ['nodes', orgId], queryFn: ({ signal }) => listNodes(api, signal), refetchInterval: NODE_POLL_MS });
  return (
    <section className="card" aria-labelledby="nodes-heading">
      <h2 id="nodes-heading">Nodes</h2>
      {nodes.isPending ? <Loading /> : null}
      <ErrorMessage error={nodes.error} />
      {nodes.data?.length === 0 ? <EmptyState title="No nodes yet">Create a join token above and run the command on your GPU host.</EmptyState> : null}
      {nodes.data && nodes.data.length > 0 ? (
        <DataTable columns={['Node', 'Status', 'GPUs', { label: 'Util.', className: 'num' }, { label: 'Temp.', className: 'num' }, { label: 'Price / GPU-h', className: 'num' }, 'Listing', { label: 'Reliability', className: 'num' }]}>
          {nodes.data.map((node) => (
            <tr key={node.id} data-testid={`node-${node.hostname}`}>
              <td>
                <Link to={`/provider/nodes/${node.id}`}>{node.hostname}</Link>
                {node.simulated ? <span className="badge">simulated</span> : null}
                <small className="muted range">heartbeat {formatRelative(node.lastHeartbeatAt)}</small>
              </td>
              <td>
                <StatusBadge status={node.status} />
                {node.draining ? <span className="badge badge-warn">draining</span> : null}
                {node.runningAttempt ? <span className="badge">running a job</span> : null}
              </td>
              <td>
                {node.gpuCount}× {node.gpuName}
              </td>
              <td className="num">{average(node.telemetry, 'utilizationPct')}%</td>
              <td className="num">{average(node.telemetry, 'temperatureC')}°C</td>
              <td className="num">{formatPrice(node.priceMicrosPerGpuHour)}</td>
              <td>{node.listed ? <span className="badge badge-ok">listed</span> : <span className="badge">unlisted</span>}</td>
              <td className="num">{formatReliability(node.reliability)}</td>
            </tr>
          ))}
        
        </DataTable>
      ) : null}
    </section>
  );
}
