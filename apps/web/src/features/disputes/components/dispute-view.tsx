import { formatDate, formatDuration } from '../../../lib/duration.js';
import { formatMicros, formatPrice } from '../../../lib/money.js';
import { Link } from '../../../lib/router.js';
import { reasonLabel, type Dispute } from '../api/disputes.api.js';
import { DisputeStatusBadge } from './dispute-status.js';

/** A dispute with the evidence the system gathered; the same for every party (the API trims what each may see). */
export function DisputeView({ dispute, showSuggestion }: { dispute: Dispute; showSuggestion: boolean }) {
  const e = dispute.evidence;
  return (
    <>
      <section className="card" aria-labelledby="dispute-claim">
        <h2 id="dispute-claim">The claim</h2>
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <DisputeStatusBadge status={dispute.status} resolution={dispute.resolution} />
          </dd>
          <dt>Reason</dt>
          <dd>{reasonLabel(dispute.reason)}</dd>
          <dt>Job</dt>
          <dd>{dispute.role === 'customer' ? <Link to={`/jobs/${dispute.jobId}`}>{dispute.jobId.slice(0, 8)}</Link> : dispute.jobId.slice(0, 8)}, attempt {e.attempt.number}</dd>
          <dt>Charged</dt>
          <dd>{formatMicros(dispute.charged.micros)}</dd>
          <dt>Opened</dt>
          <dd>{formatDate(dispute.createdAt)}</dd>
          {dispute.refund ? (
            <>
              <dt>Refund</dt>
              <dd data-testid="dispute-refund">{formatMicros(dispute.refund.micros)}</dd>
            </>
          ) : null}
        </dl>
        <blockquote className="statement">{dispute.description}</blockquote>
        {dispute.providerStatement ? (
          <>
            <h3>The provider's answer</h3>
            <blockquote className="statement">{dispute.providerStatement}</blockquote>
          </>
        ) : null}
        {dispute.resolutionNote ? (
          <>
            <h3>Decision</h3>
            <blockquote className="statement">{dispute.resolutionNote}</blockquote>
          </>
        ) : null}
      </section>
      {showSuggestion ? (
        <section className="card" aria-labelledby="dispute-suggestion">
          <h2 id="dispute-suggestion">What the evidence suggests</h2>
          <p>
            <strong>{dispute.suggestion.outcome.replace(/_/g, ' ')}</strong>
            {dispute.suggestion.refund.micros !== '0' ? `, refund ${formatMicros(dispute.suggestion.refund.micros)}` : ''}: {dispute.suggestion.reason}
          </p>
          {dispute.suggestion.findings.length > 0 ? (
            <ul>
              {dispute.suggestion.findings.map((f) => (
                <li key={f}>{f}</li>
              ))}
            </ul>
          ) : null}
        </section>
      ) : null}
      <section className="card" aria-labelledby="dispute-evidence">
        <h2 id="dispute-evidence">Evidence</h2>
        <dl className="facts">
          <dt>GPU</dt>
          <dd>
            offered {e.gpu.offeredCount}× {e.gpu.offeredModel}; reported {e.gpu.reportedName ? `${e.gpu.reportedCount ?? '?'}× ${e.gpu.reportedName}` : '—'}{' '}
            {e.gpu.matches === false ? <span className="badge badge-off">mismatch</span> : e.gpu.matches ? <span className="badge badge-ok">matches</span> : null}
          </dd>
          <dt>Attempt</dt>
          <dd>
            {e.attempt.status}
            {e.attempt.endReason ? ` (${e.attempt.endReason.replace(/_/g, ' ')})` : ''}, ran {e.attempt.runningAt ? formatDate(e.attempt.runningAt) : '—'} to {e.attempt.endedAt ? formatDate(e.attempt.endedAt) : '—'}
          </dd>
          <dt>Heartbeat gaps</dt>
          <dd>
            {e.heartbeats.gaps.length === 0
              ? 'none'
              : e.heartbeats.gaps.map((g) => `${g.state} ${formatDuration(g.seconds)} from ${formatDate(g.from).slice(11)}`).join('; ')}
            {e.heartbeats.offlineBeforeEndSeconds !== null ? `; out of contact for ${formatDuration(e.heartbeats.offlineBeforeEndSeconds)} before the end` : ''}
          </dd>
          <dt>Telemetry</dt>
          <dd>
            {e.telemetry.summary.sampleCount} {e.telemetry.summary.sampleCount === 1 ? 'sample' : 'samples'}; mean utilisation {e.telemetry.summary.utilizationPctMean ?? '—'}%, max temperature {e.telemetry.summary.temperatureCMax ?? '—'}°C
          </dd>
          <dt>Step time</dt>
          <dd>
            {e.stepTime.measured ? `measured ${Math.round(e.stepTime.measured.p50Ms)} ms (median of ${e.stepTime.measured.count})` : 'not measured'}
            {e.stepTime.benchmark ? `; benchmark p50 ${Math.round(e.stepTime.benchmark.p50Ms)} ms, p90 ${Math.round(e.stepTime.benchmark.p90Ms)} ms (${e.stepTime.benchmark.basisText})` : ''}
            {e.stepTime.ratioToP90 !== null ? `; ${e.stepTime.ratioToP90.toFixed(2)}× the p90` : ''}
          </dd>
          <dt>Metering</dt>
          <dd>
            {e.metering.billableSeconds !== null ? formatDuration(e.metering.billableSeconds) : '—'} × {e.metering.gpuCount} GPU at {formatPrice(e.metering.priceMicrosPerGpuHour)}/GPU-hour = {formatMicros(e.metering.costMicros)}; charged{' '}
            {formatMicros(e.metering.chargedMicros)} (provider {formatMicros(e.metering.providerShareMicros)}, platform fee {formatMicros(e.metering.platformFeeMicros)})
          </dd>
        </dl>
        {e.events.length > 0 ? (
          <details>
            <summary>Job events ({e.events.length})</summary>
            <ol className="timeline">
              {e.events.map((ev, i) => (
                <li key={`${ev.at}-${i}`}>
                  <span className="muted">{formatDate(ev.at).slice(11)}</span> {ev.toStatus ?? ev.type} {ev.message}
                </li>
              ))}
            </ol>
          </details>
        ) : null}
        {e.logs.length > 0 ? (
          <details>
            <summary>Logs ({e.logs.length} lines)</summary>
            <pre className="logs">{e.logs.map((l) => `${l.at.slice(11, 19)} ${l.line}`).join('\n')}</pre>
          </details>
        ) : null}
      </section>
    </>
  );
}
