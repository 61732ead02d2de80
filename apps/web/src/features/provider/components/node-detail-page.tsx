import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { SelectField } from '../../../components/field.js';
import { Loading, PageHeader } from '../../../components/status.js';
import { formatDate, formatRelative } from '../../../lib/duration.js';
import { formatPrice } from '../../../lib/money.js';
import { Link } from '../../../lib/router.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { getNode, listNodes, type NodeDetailResponse } from '../api/nodes.api.js';
import { NodeControls, StatusBadge } from './node-controls.js';
import { NODE_POLL_MS, formatReliability } from './nodes-list.js';
import { TelemetryCharts } from './telemetry-charts.js';

type Sample = NodeDetailResponse['telemetry'][number];

/**
 * Stored telemetry is one sample a minute; between those, the live values of each poll (every few
 * seconds) are appended in the browser so the charts move while you watch.
 */
function useLiveSamples(nodeId: string, stored: Sample[] | undefined): Sample[] {
  const api = useApi();
  const { orgId } = useSession();
  const nodes = useQuery({ queryKey: ['nodes', orgId], queryFn: ({ signal }) => listNodes(api, signal), refetchInterval: NODE_POLL_MS });
  const [live, setLive] = useState<Sample[]>([]);
  const current = nodes.data?.find((n) => n.id === nodeId);
  useEffect(() => {
    if (!current?.lastHeartbeatAt || current.telemetry.length === 0) return;
    const at = current.lastHeartbeatAt;
    setLive((samples) => (samples.some((s) => s.at === at) ? samples : [...samples, { at, gpus: current.telemetry, runningAttemptId: current.runningAttempt?.attemptId ?? null }].slice(-720)));
  }, [current]);
  return useMemo(() => {
    const all = [...(stored ?? []), ...live];
    all.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return all;
  }, [stored, live]);
}

export function NodeDetailPage({ nodeId }: { nodeId: string }) {
  const api = useApi();
  const { orgId } = useSession();
  const [hours, setHours] = useState(1);
  const node = useQuery({ queryKey: ['nodes', orgId, nodeId, hours], queryFn: ({ signal }) => getNode(api, nodeId, hours, signal), refetchInterval: NODE_POLL_MS });
  const data = node.data;
  const samples = useLiveSamples(nodeId, data?.telemetry);
  const current = samples.at(-1)?.gpus ?? [];
  return (
    <>
      <p>
        <Link to="/provider">← All nodes</Link>
      </p>
      <PageHeader title={data ? data.hostname : 'Node'}>{data ? <StatusBadge status={data.status} /> : null}</PageHeader>
      {node.isPending ? <Loading /> : null}
      <ErrorMessage error={node.error} />
      {data ? (
        <>
          <section className="card" aria-labelledby="node-facts">
            <h2 id="node-facts">Overview</h2>
            <dl className="facts">
              <dt>Status</dt>
              <dd>
                {data.status} since {formatDate(data.statusSince)}
                {data.draining ? ' (draining)' : ''}
              </dd>
              <dt>Last heartbeat</dt>
              <dd>{formatRelative(data.lastHeartbeatAt)}</dd>
              <dt>GPUs</dt>
              <dd>
                {data.gpuCount}× {data.gpuName}
                {data.vramGb ? `, ${data.vramGb} GB each` : ''}
              </dd>
              <dt>Price</dt>
              <dd>{formatPrice(data.priceMicrosPerGpuHour)} per GPU-hour</dd>
              <dt>Reliability</dt>
              <dd>
                {formatReliability(data.reliability)}
                {typeof data.uptime30d === 'number' ? ` (uptime over 30 days ${formatReliability(data.uptime30d)})` : ''}
              </dd>
              <dt>Agent</dt>
              <dd>
                {data.agentVersion ?? '—'} {data.agentState ? `(${data.agentState})` : ''}
              </dd>
              <dt>Region</dt>
              <dd>{data.region ?? '—'}</dd>
              <dt>Running</dt>
              <dd>{data.runningAttempt ? `job ${data.runningAttempt.jobId.slice(0, 8)} (${data.runningAttempt.phase})` : 'nothing'}</dd>
              {current.length > 0 ? (
                <>
                  <dt>Now</dt>
                  <dd>{current.map((g, i) => `GPU ${g.index ?? i}: ${g.utilizationPct ?? '—'}% at ${g.temperatureC ?? '—'}°C`).join('; ')}</dd>
                </>
              ) : null}
            </dl>
          </section>
          <section className="card" aria-labelledby="node-settings">
            <h2 id="node-settings">Price and availability</h2>
            <NodeControls key={data.priceMicrosPerGpuHour} node={{ ...data, telemetry: [] }} />
          </section>
          <section aria-labelledby="node-telemetry" className="stack">
            <div className="page-header">
              <h2 id="node-telemetry">Telemetry</h2>
              <SelectField label="Window" value={String(hours)} onChange={(e) => setHours(Number(e.target.value))} className="compact">
                <option value="1">last hour</option>
                <option value="6">last 6 hours</option>
                <option value="24">last 24 hours</option>
                <option value="168">last 7 days</option>
              </SelectField>
            </div>
            <TelemetryCharts samples={samples} />
          </section>
          <section className="card" aria-labelledby="node-history">
            <h2 id="node-history">Status history</h2>
            {data.stateHistory.length === 0 ? (
              <p className="muted">No changes yet.</p>
            ) : (
              <ul className="plain-list">
                {data.stateHistory.slice(0, 20).map((event) => (
                  <li key={`${event.at}-${event.to}`}>
                    {formatDate(event.at)}: {event.from ?? 'new'} → <strong>{event.to}</strong> <span className="muted">{event.reason}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      ) : null}
    </>
  );
}
