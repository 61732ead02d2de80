import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ErrorMessage } from '../../../components/error-message.js';
import { Loading, Notice, PageHeader } from '../../../components/status.js';
import { formatDate, formatDuration } from '../../../lib/duration.js';
import { formatMicros, formatPrice } from '../../../lib/money.js';
import { Link } from '../../../lib/router.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { cancelJob, getJob, jobArtifacts, jobEvents, jobLogs, jobMetrics, jobQueryKeys, TERMINAL, type Job } from '../api/jobs.api.js';
import { useJobStream } from '../hooks/use-job-stream.js';
import type { JobStreamState } from '../lib/job-stream.js';
import { OpenDisputeForm } from '../../disputes/components/disputes-pages.js';
import { JobStatusBadge } from './job-status.js';
import { DataTable } from '../../../components/data-table.js';

/** The live stream keeps the page current; this slow re-read of the job is the safety net (and moves the cost so far). */
const FALLBACK_MS = 30_000;
/** After the end, the attempt's cost is settled just after the status changes: re-read until it is (for a while). */
const SETTLING_MS = 3_000;
const SETTLING_FOR_MS = 120_000;

/** How the page's reads of the job's details follow the stream: read once it is subscribed, poll only without it. */
interface DetailReads {
  enabled: boolean;
  refetchInterval: number | false;
}

function detailReads(stream: JobStreamState): DetailReads {
  return { enabled: stream !== 'connecting', refetchInterval: stream === 'unavailable' ? FALLBACK_MS : false };
}

/** A job that ended with an attempt whose seconds are not in the ledger yet (briefly, after the end). */
function settling(job: Job): boolean {
  return job.finishedAt !== null && Date.now() - Date.parse(job.finishedAt) < SETTLING_FOR_MS && job.attempts.some((a) => a.status === 'ended' && a.billableSeconds === null);
}

const STREAM_LABELS: Record<JobStreamState, { text: string; className: string; title: string; dot?: boolean } | null> = {
  connecting: { text: 'Connecting…', className: 'badge', title: 'Opening the live connection.' },
  live: { text: 'Live', dot: true, className: 'badge badge-ok', title: 'Loss, logs and events update as they happen.' },
  reconnecting: { text: 'Reconnecting…', className: 'badge badge-warn', title: 'The live connection dropped; retrying. What was missed is read again when it is back.' },
  unavailable: { text: 'Updates every 30 s', className: 'badge', title: 'Live updates are not available; the page re-reads the job every 30 seconds.' },
  ended: null,
};

function StreamIndicator({ state }: { state: JobStreamState }) {
  const label = STREAM_LABELS[state];
  if (!label) return null;
  return (
    <span className={label.className} role="status" aria-live="polite" title={label.title} data-testid="stream-state" data-state={state}>
      {label.dot ? <span aria-hidden="true">● </span> : null}
      {label.text}
    </span>
  );
}

function LossChart({ jobId, reads }: { jobId: string; reads: DetailReads }) {
  const api = useApi();
  const { orgId } = useSession();
  const metrics = useQuery({ queryKey: jobQueryKeys.part(orgId, jobId, 'metrics'), queryFn: ({ signal }) => jobMetrics(api, jobId, signal), ...reads });
  const points = (metrics.data?.points ?? []).filter((p) => typeof p.loss === 'number');
  if (metrics.error) return <ErrorMessage error={metrics.error} />;
  if (metrics.isPending) return <Loading />;
  if (points.length === 0) return <p className="muted">Training loss appears here once the first steps are reported.</p>;
  const last = points.at(-1);
  return (
    <figure className="chart-card">
      <figcaption className="muted">
        Loss at step {last?.step}: {last?.loss?.toFixed(4)}
        {last?.stepTimeMs ? `, ${Math.round(last.stepTimeMs)} ms per step` : ''}
      </figcaption>
      <div className="chart" role="img" aria-label={`Training loss by step; latest ${last?.loss?.toFixed(4)} at step ${last?.step}`}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 8, right: 12, bottom: 0, left: -8 }}>
            <CartesianGrid stroke="#e5e7eb" strokeDasharray="3 3" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} fontSize={12} />
            <YAxis fontSize={12} domain={['auto', 'auto']} />
            <Tooltip formatter={(v) => Number(v).toFixed(4)} labelFormatter={(s) => `step ${String(s)}`} />
            <Line type="monotone" dataKey="loss" stroke="#c2410c" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

function Logs({ jobId, reads }: { jobId: string; reads: DetailReads }) {
  const api = useApi();
  const { orgId } = useSession();
  const logs = useQuery({ queryKey: jobQueryKeys.part(orgId, jobId, 'logs'), queryFn: ({ signal }) => jobLogs(api, jobId, signal), ...reads });
  if (logs.error) return <ErrorMessage error={logs.error} />;
  if (logs.isPending) return <Loading />;
  const lines = logs.data?.lines ?? [];
  if (lines.length === 0) return <p className="muted">No log lines yet.</p>;
  return (
    <pre className="logs" tabIndex={0} aria-label="Job log">
      {lines.slice(-300).map((l) => `${l.at.slice(11, 19)} ${l.stream === 'stderr' ? '! ' : ''}${l.line}`).join('\n')}
    </pre>
  );
}

function Artifacts({ jobId }: { jobId: string }) {
  const api = useApi();
  const { orgId } = useSession();
  const artifacts = useQuery({ queryKey: jobQueryKeys.part(orgId, jobId, 'artifacts'), queryFn: ({ signal }) => jobArtifacts(api, jobId, signal) });
  if (artifacts.error) return <ErrorMessage error={artifacts.error} />;
  const data = artifacts.data;
  if (!data) return <Loading />;
  if (data.expired) return <p className="muted">The download window ended on {data.availableUntil ? formatDate(data.availableUntil) : '—'}; outputs were deleted.</p>;
  if (data.artifacts.length === 0) return <p className="muted">No outputs.</p>;
  return (
    <>
      <ul className="plain-list">
        {data.artifacts.map((a) => (
          <li key={a.key}>
            <a href={typeof a.url === 'string' ? a.url : a.url.url} download={a.name}>
              {a.name}
            </a>
          </li>
        ))}
      </ul>
      {data.availableUntil ? <p className="muted">Downloadable until {formatDate(data.availableUntil)}.</p> : null}
    </>
  );
}

/** "2048 tokens" or "1024×1024", from the recipe in either naming. */
function shapeOf(recipe: Job['recipe']): string {
  const seq = recipe.sequenceLength ?? recipe.seqLen;
  const res = (recipe.imageResolution ?? recipe.resolution) as { width?: number; height?: number } | undefined;
  if (typeof seq === 'number') return `, ${seq} tokens`;
  if (res && typeof res.width === 'number') return `, ${res.width}×${res.height}`;
  return '';
}

function Summary({ job }: { job: Job }) {
  const done = TERMINAL.includes(job.status);
  return (
    <dl className="facts">
      <dt>Model</dt>
      <dd>
        {String(job.recipe.baseModelId)} ({String(job.recipe.method)}
        {shapeOf(job.recipe)}), {job.steps.toLocaleString('en-US')} steps
      </dd>
      <dt>Estimate at submission</dt>
      <dd>
        {job.estimate
          ? `~${formatDuration(job.estimate.runtimeSeconds.p50)} (${formatDuration(job.estimate.runtimeSeconds.p10)}–${formatDuration(job.estimate.runtimeSeconds.p90)}), ~${formatMicros(job.estimate.costMicros.p50)} (${formatMicros(job.estimate.costMicros.p10)}–${formatMicros(job.estimate.costMicros.p90)})`
          : 'none'}
      </dd>
      <dt>{done ? 'Actual' : 'So far'}</dt>
      <dd data-testid="job-cost">
        {done
          ? `${job.actual.runtimeSeconds !== null ? formatDuration(job.actual.runtimeSeconds) : '—'}, ${formatMicros(job.actual.costMicros)}`
          : `${formatMicros(job.costSoFarMicros)} (holding ${formatMicros(job.holdMicros)})`}
      </dd>
      {job.budgetCapMicros ? (
        <>
          <dt>Budget cap</dt>
          <dd>{formatMicros(job.budgetCapMicros)}</dd>
        </>
      ) : null}
      {job.maxPriceMicrosPerGpuHour ? (
        <>
          <dt>Max price</dt>
          <dd>{formatPrice(job.maxPriceMicrosPerGpuHour)} per GPU-hour</dd>
        </>
      ) : null}
      <dt>Submitted</dt>
      <dd>{formatDate(job.createdAt)}</dd>
      {job.finishedAt ? (
        <>
          <dt>Finished</dt>
          <dd>{formatDate(job.finishedAt)}</dd>
        </>
      ) : null}
    </dl>
  );
}

export function JobDetailPage({ jobId }: { jobId: string }) {
  const api = useApi();
  const { orgId } = useSession();
  const queryClient = useQueryClient();
  const job = useQuery({
    queryKey: jobQueryKeys.job(orgId, jobId),
    queryFn: ({ signal }) => getJob(api, jobId, signal),
    refetchInterval: (query) => {
      const data = query.state.data;
      if (!data) return false;
      if (!TERMINAL.includes(data.status)) return FALLBACK_MS;
      return settling(data) ? SETTLING_MS : false;
    },
  });
  const live = job.data ? !TERMINAL.includes(job.data.status) : false;
  const stream = useJobStream(jobId, live);
  // Until the job is read, whether a stream will be needed is unknown: nothing else is read yet.
  const reads = detailReads(job.data ? stream : 'connecting');
  const events = useQuery({ queryKey: jobQueryKeys.part(orgId, jobId, 'events'), queryFn: ({ signal }) => jobEvents(api, jobId, signal), ...reads });
  const cancel = useMutation({ mutationFn: () => cancelJob(api, jobId), onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['jobs'] }) });
  const data = job.data;
  return (
    <>
      <p>
        <Link to="/jobs">← All jobs</Link>
      </p>
      <PageHeader title={data ? (data.name ?? `Job ${data.id.slice(0, 8)}`) : 'Job'}>
        {data ? <JobStatusBadge status={data.status} /> : null}
        {live ? <StreamIndicator state={stream} /> : null}
        {data && live && !data.cancelRequested ? (
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (window.confirm('Cancel this job? Time already used is charged.')) cancel.mutate();
            }}
            disabled={cancel.isPending}
          >
            Cancel job
          </button>
        ) : null}
      </PageHeader>
      {job.isPending ? <Loading /> : null}
      <ErrorMessage error={job.error ?? cancel.error} />
      {data ? (
        <>
          {data.waitingBecause ? <Notice>Waiting: {data.waitingBecause}</Notice> : null}
          {data.cancelRequested && live ? <Notice>Canceling…</Notice> : null}
          {data.finalMessage ? <Notice tone={data.status === 'succeeded' ? 'success' : 'warning'}>{data.finalMessage}</Notice> : null}
          <section className="card" aria-labelledby="job-summary">
            <h2 id="job-summary">Summary</h2>
            <Summary job={data} />
          </section>
          <section className="card" aria-labelledby="job-progress">
            <h2 id="job-progress">Training</h2>
            <LossChart jobId={jobId} reads={reads} />
          </section>
          {data.status === 'succeeded' ? (
            <section className="card" aria-labelledby="job-outputs">
              <h2 id="job-outputs">Outputs</h2>
              <Artifacts jobId={jobId} />
            </section>
          ) : null}
          <section className="card" aria-labelledby="job-attempts">
            <h2 id="job-attempts">Attempts</h2>
            {data.attempts.length === 0 ? (
              <p className="muted">No machine yet.</p>
            ) : (
              <DataTable columns={['#', 'Where', { label: 'Price / GPU-h', className: 'num' }, 'Status', { label: 'Billed', className: 'num' }, { label: 'Cost', className: 'num' }]}>
                {data.attempts.map((a) => (
                  <tr key={a.id}>
                    <td>{a.number}</td>
                    <td>
                      {a.gpuCount}× {a.gpuModel} <span className="muted">({a.providerKind})</span>
                    </td>
                    <td className="num">{formatPrice(a.priceMicrosPerGpuHour)}</td>
                    <td>
                      {a.status}
                      {a.endReason ? <span className="muted"> — {a.endReason.replace(/_/g, ' ')}</span> : null}
                    </td>
                    <td className="num">{a.billableSeconds !== null ? formatDuration(a.billableSeconds) : '—'}</td>
                    <td className="num">{formatMicros(a.costMicros)}</td>
                  </tr>
                ))}
              
              </DataTable>
            )}
          </section>
          {!live ? <OpenDisputeForm jobId={jobId} attempts={data.attempts} /> : null}
          <section className="card" aria-labelledby="job-events">
            <h2 id="job-events">Timeline</h2>
            <ErrorMessage error={events.error} />
            <ol className="timeline">
              {(events.data ?? []).map((e) => (
                <li key={e.id}>
                  <span className="muted">{formatDate(e.at).slice(11)}</span> {e.to ? <JobStatusBadge status={e.to} /> : <span className="badge">{e.type}</span>} {e.message}
                </li>
              ))}
            </ol>
          </section>
          <section className="card" aria-labelledby="job-logs">
            <h2 id="job-logs">Logs</h2>
            <Logs jobId={jobId} reads={reads} />
          </section>
        </>
      ) : null}
    </>
  );
}
