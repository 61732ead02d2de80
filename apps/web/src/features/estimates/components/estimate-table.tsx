import { formatDuration } from '../../../lib/duration.js';
import { formatMicros, formatPrice, toMicros } from '../../../lib/money.js';
import type { EstimateRow } from '../api/estimates.api.js';

/** "~38 min, ~$0.68": the p50 runtime and cost of one row. */
export function headlineOf(row: Pick<EstimateRow, 'runtimeSeconds' | 'costMicros'>): string {
  return `~${formatDuration(row.runtimeSeconds.p50)}, ~${formatMicros(row.costMicros.p50)}`;
}

/** The row to headline: the cheapest by p50 cost (exact BigInt comparison). */
export function headlineRow(rows: EstimateRow[]): EstimateRow | undefined {
  let best: EstimateRow | undefined;
  for (const row of rows) if (!best || toMicros(row.costMicros.p50) < toMicros(best.costMicros.p50)) best = row;
  return best;
}

const BASIS_LABEL: Record<string, string> = { exact: 'measured', scaled: 'scaled', transferred: 'transferred', prior: 'prior' };

function providerLabel(row: EstimateRow): string {
  const kind = row.providerKind === 'gcp' ? 'GCP' : row.providerKind === 'runpod' ? 'RunPod' : row.providerKind === 'community' ? 'Community' : row.providerKind;
  return row.providerName ? `${row.providerName} (${kind})` : kind;
}

/**
 * One row per offer: provider, GPU, price per GPU-hour, runtime p50 with its p10–p90 range, total
 * cost (p50, range), and the basis the estimate stands on. Selecting a row picks that offer.
 */
export function EstimateTable({ rows, selectedOfferId, onSelect }: { rows: EstimateRow[]; selectedOfferId?: string | null; onSelect?: (row: EstimateRow) => void }) {
  return (
    <div className="table-wrap">
      <table className="estimate-table">
        <caption className="visually-hidden">Estimated runtime and cost on each matching offer</caption>
        <thead>
          <tr>
            {onSelect ? (
              <th scope="col">
                <span className="visually-hidden">Pick</span>
              </th>
            ) : null}
            <th scope="col">Offer</th>
            <th scope="col" className="num">
              Price / GPU-h
            </th>
            <th scope="col" className="num">
              Runtime
            </th>
            <th scope="col" className="num">
              Total cost
            </th>
            <th scope="col">Basis</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const selected = selectedOfferId === row.offerId;
            return (
              <tr key={row.offerId} className={selected ? 'selected' : undefined} data-testid="estimate-row">
                {onSelect ? (
                  <td>
                    <input type="radio" name="offer" checked={selected} onChange={() => onSelect(row)} aria-label={`Choose ${row.gpuCount}× ${row.gpuName} from ${providerLabel(row)}`} />
                  </td>
                ) : null}
                <td>
                  <strong>
                    {row.gpuCount}× {row.gpuName}
                  </strong>
                  {row.fastest ? <span className="badge badge-ok">fastest</span> : null}
                  {row.cheapest ? <span className="badge">cheapest</span> : null}
                  <span className="range">
                    {providerLabel(row)}
                    {row.region && row.region !== 'unknown' ? `, ${row.region}` : ''}
                    {row.spot ? ', spot' : ''}
                  </span>
                </td>
                <td className="num">{formatPrice(row.priceMicrosPerGpuHour)}</td>
                <td className="num">
                  {formatDuration(row.runtimeSeconds.p50)}
                  <span className="range">
                    {formatDuration(row.runtimeSeconds.p10)}–{formatDuration(row.runtimeSeconds.p90)}
                  </span>
                </td>
                <td className="num">
                  {formatMicros(row.costMicros.p50)}
                  <span className="range">
                    {formatMicros(row.costMicros.p10)}–{formatMicros(row.costMicros.p90)}
                  </span>
                </td>
                <td className="basis">
                  <span className="badge">{BASIS_LABEL[row.basis] ?? row.basis}</span> {row.basisText}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
