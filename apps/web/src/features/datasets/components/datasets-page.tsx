import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ErrorMessage } from '../../../components/error-message.js';
import { EmptyState, Loading, PageHeader } from '../../../components/status.js';
import { formatDate } from '../../../lib/duration.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { deleteDataset, downloadDataset, listDatasets, type Dataset } from '../api/datasets.api.js';
import { formatBytes } from '../lib/upload.js';
import { UploadDataset } from './upload-dataset.js';
import { DataTable } from '../../../components/data-table.js';

function StatusCell({ dataset }: { dataset: Dataset }) {
  if (dataset.status === 'failed') return <span className="badge badge-off">failed: {dataset.failureCode ?? 'unknown'}</span>;
  if (dataset.status === 'uploading') return <span className="badge badge-warn">uploading</span>;
  if (dataset.moderation?.outcome === 'rejected') return <span className="badge badge-off" title={dataset.moderation.reasons.map((r) => r.message).join(' ')}>rejected</span>;
  return <span className="badge badge-ok">{dataset.status}</span>;
}

export function DatasetsPage() {
  const api = useApi();
  const { orgId } = useSession();
  const queryClient = useQueryClient();
  const datasets = useQuery({ queryKey: ['datasets', orgId], queryFn: ({ signal }) => listDatasets(api, signal) });
  const remove = useMutation({ mutationFn: (id: string) => deleteDataset(api, id), onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['datasets'] }) });
  const download = useMutation({
    mutationFn: (id: string) => downloadDataset(api, id),
    onSuccess: (link) => {
      window.location.assign(link.url);
    },
  });
  const items = datasets.data?.items.filter((d) => d.status !== 'deleted') ?? [];
  return (
    <>
      <PageHeader title="Datasets" />
      <UploadDataset />
      <section className="card" aria-labelledby="datasets-heading">
        <h2 id="datasets-heading">Your datasets</h2>
        <p className="muted">Stored encrypted; each is deleted at the end of its retention period.</p>
        {datasets.isPending ? <Loading /> : null}
        <ErrorMessage error={datasets.error ?? remove.error ?? download.error} />
        {datasets.data && items.length === 0 ? <EmptyState title="No datasets yet">Upload one above to train on it.</EmptyState> : null}
        {items.length > 0 ? (
          <DataTable columns={['Name', 'Format', { label: 'Size', className: 'num' }, { label: 'Samples', className: 'num' }, 'Status', 'Deleted on', { label: <span className="visually-hidden">Actions</span> }]}>
            {items.map((d) => (
              <tr key={d.id} data-testid={`dataset-${d.name}`}>
                <td>
                  {d.name}
                  <small className="muted range mono">{d.sha256.slice(0, 12)}…</small>
                </td>
                <td>{d.format}</td>
                <td className="num">{formatBytes(d.sizeBytes)}</td>
                <td className="num">{d.sampleCount?.toLocaleString('en-US') ?? '—'}</td>
                <td>
                  <StatusCell dataset={d} />
                </td>
                <td>{d.deleteAfterTraining ? 'after training' : formatDate(d.expiresAt).slice(0, 10)}</td>
                <td>
                  <div className="row">
                    {d.status === 'ready' ? (
                      <button type="button" className="secondary small" onClick={() => download.mutate(d.id)} aria-label={`Download ${d.name}`}>
                        Download
                      </button>
                    ) : null}
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Delete ${d.name}`}
                      onClick={() => {
                        if (window.confirm(`Delete “${d.name}”? This cannot be undone.`)) remove.mutate(d.id);
                      }}
                    >
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          
          </DataTable>
        ) : null}
      </section>
    </>
  );
}
