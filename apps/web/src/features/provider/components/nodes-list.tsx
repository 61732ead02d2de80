import { useQuery } from '@tanstack/react-query';
import { ErrorMessage } from '../../../components/error-message.js';
import { EmptyState, Loading } from '../../../components/status.js';
import { formatRelative } from '../../../lib/duration.js';
import { formatPrice } from '../../../lib/money.js';
import { Link } from '../../../lib/router.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { listNodes, type GpuTelemetry } from '../api/nodes.api.js';
import { StatusBadge } from './node-controls.js';

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
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Status</th>
                <th scope="col">GPUs</th>
                <th scope="col" className="num">Util.</th>
                <th scope="col" className="num">Temp.</th>
                <th scope="col" className="num">Price / GPU-h</th>
                <th scope="col">Listing</th>
                <th scope="col" className="num">Reliability</th>
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
