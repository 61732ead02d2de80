import { Notice } from '../../../components/status.js';
import type { Dataset } from '../api/datasets.api.js';

/** What verification and moderation concluded about an uploaded dataset. */
export function DatasetResult({ dataset }: { dataset: Dataset }) {
  const rejected = dataset.moderation?.outcome === 'rejected';
  return (
    <div className="dataset-result" data-testid="dataset-result">
      {dataset.status === 'ready' ? (
        <Notice tone="success">
          Checksum verified: the stored file matches SHA-256 <code className="mono">{dataset.sha256.slice(0, 12)}…</code>
          {dataset.sampleCount !== null ? `; ${dataset.sampleCount.toLocaleString('en-US')} samples` : ''}
          {dataset.tokenCountEstimate !== null ? `, about ${dataset.tokenCountEstimate.toLocaleString('en-US')} tokens` : ''}.
        </Notice>
      ) : null}
      {dataset.moderation ? (
        rejected ? (
          <Notice tone="warning">
            <strong>Moderation rejected this dataset.</strong>
            <ul className="field-errors">
              {dataset.moderation.reasons.map((r) => (
                <li key={r.code}>{r.message}</li>
              ))}
            </ul>
          </Notice>
        ) : (
          <Notice tone="success">Moderation passed: the dataset can be used for training.</Notice>
        )
      ) : null}
    </div>
  );
}
