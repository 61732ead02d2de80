import { useQuery } from '@tanstack/react-query';
import { ErrorMessage } from '../../../components/error-message.js';
import { EmptyState, Loading, Notice } from '../../../components/status.js';
import { useDebouncedValue } from '../../../lib/use-debounced-value.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { requestEstimate, type Estimate, type EstimateRequest, type EstimateRow } from '../api/estimates.api.js';
import { EstimateTable, headlineOf, headlineRow } from './estimate-table.js';

export const ESTIMATE_DEBOUNCE_MS = 400;

/** The memory-fit warning: offers the recipe cannot run on, and why. */
export function MemoryFitWarning({ estimate }: { estimate: Estimate }) {
  if (estimate.excluded.length === 0) return null;
  const none = estimate.rows.length === 0;
  return (
    <Notice tone="warning">
      <strong>{none ? 'This recipe does not fit in the memory of any matching GPU.' : `It does not fit on ${estimate.excluded.length === 1 ? 'one GPU type' : `${estimate.excluded.length} GPU types`}:`}</strong>
      <ul className="field-errors">
        {estimate.excluded.map((e) => (
          <li key={`${e.gpuName}-${e.gpuCount}`}>
            {e.gpuCount}× {e.gpuName}: {e.reason || (e.needGb !== null && e.haveGb !== null ? `needs ${e.needGb.toFixed(1)} GB, has ${e.haveGb} GB` : 'not enough memory')}
          </li>
        ))}
      </ul>
      {none ? <span>Try QLoRA, a shorter context, a smaller batch, or more GPUs.</span> : null}
    </Notice>
  );
}

/**
 * Asks for an estimate as the form changes (debounced) and shows the headline, the memory-fit
 * warning and one row per offer; `onEstimate` hands the quote to the form for submission.
 */
export function EstimatePanel({ request, selectedOfferId, onSelect }: { request: EstimateRequest | null; selectedOfferId: string | null; onSelect: (row: EstimateRow, quoteId: string) => void }) {
  const api = useApi();
  const { orgId } = useSession();
  const settled = useDebouncedValue(request, ESTIMATE_DEBOUNCE_MS);
  const estimate = useQuery({
    queryKey: ['estimate', orgId, settled],
    queryFn: ({ signal }) => requestEstimate(api, settled as EstimateRequest, signal),
    enabled: settled !== null,
    placeholderData: (previous) => previous,
    staleTime: 30_000,
  });
  const data = estimate.data;
  const headline = data ? headlineRow(data.rows) : undefined;
  const fastest = data?.rows.find((r) => r.fastest);
  const stale = request !== settled || estimate.isFetching;
  return (
    <section className="card estimate-panel" aria-labelledby="estimate-heading" aria-busy={stale}>
      <h2 id="estimate-heading">Estimate</h2>
      {request === null ? <p className="muted">Fill in the recipe to see the runtime and price on every matching offer.</p> : null}
      {estimate.isPending && settled !== null ? <Loading label="Estimating…" /> : null}
      <ErrorMessage error={estimate.error} />
      {data ? (
        <div className={stale ? 'estimate stale' : 'estimate'}>
          {headline ? (
            <p className="headline" data-testid="estimate-headline" aria-live="polite">
              {headlineOf(headline)}{' '}
              <small>
                on {headline.gpuCount}× {headline.gpuName} ({headline.providerKind}), the cheapest{headline.fastest ? ' and the fastest' : ''}
              </small>
            </p>
          ) : null}
          {fastest && headline && fastest.offerId !== headline.offerId ? (
            <p className="muted">
              Fastest: {headlineOf(fastest)} on {fastest.gpuCount}× {fastest.gpuName} ({fastest.providerKind})
            </p>
          ) : null}
          <MemoryFitWarning estimate={data} />
          {data.notes.length > 0 ? (
            <ul className="muted plain-list">
              {data.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          ) : null}
          {data.rows.length > 0 ? (
            <EstimateTable rows={data.rows} selectedOfferId={selectedOfferId} onSelect={(row) => onSelect(row, data.quoteId)} />
          ) : data.excluded.length === 0 ? (
            <EmptyState title="No offer matches">Widen the filters: another GPU model, more providers, or a higher price limit.</EmptyState>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
