import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field, SelectField } from '../../../components/field.js';
import { useApi } from '../../auth/hooks/use-session.js';
import { completeDataset, createDataset, DATASET_FORMATS, type Dataset, type DatasetFormat } from '../api/datasets.api.js';
import { formatBytes, formatOf, sha256Hex, uploadToStorage } from '../lib/upload.js';
import { DatasetResult } from './dataset-result.js';

export const LICENSES = ['own-data', 'apache-2.0', 'mit', 'bsd-3-clause', 'cc0-1.0', 'cc-by-4.0', 'cc-by-sa-4.0', 'odc-by', 'odbl', 'pddl', 'cdla-permissive-2.0', 'unlicense'];

type Phase = { step: 'idle' } | { step: 'hashing' } | { step: 'creating' } | { step: 'uploading'; fraction: number } | { step: 'verifying' } | { step: 'done'; dataset: Dataset };

/**
 * Pick a file; the browser computes its SHA-256, creates the dataset, PUTs the bytes straight to
 * storage through the presigned URL(s) with a progress bar, then asks the API to verify the
 * checksum and run moderation.
 */
export function UploadDataset() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [format, setFormat] = useState<DatasetFormat>('jsonl');
  const [license, setLicense] = useState('own-data');
  const [ttlDays, setTtlDays] = useState('90');
  const [deleteAfterTraining, setDeleteAfterTraining] = useState(false);
  const [phase, setPhase] = useState<Phase>({ step: 'idle' });
  const [sha, setSha] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const busy = phase.step !== 'idle' && phase.step !== 'done';

  function choose(next: File | null) {
    setFile(next);
    setPhase({ step: 'idle' });
    setSha(null);
    setError(null);
    if (next) {
      setName(next.name.replace(/\.[^.]+$/, ''));
      const detected = formatOf(next.name);
      if (detected) setFormat(detected);
    }
  }

  async function upload(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setError(null);
    abort.current = new AbortController();
    try {
      setPhase({ step: 'hashing' });
      const sha256 = await sha256Hex(file);
      setSha(sha256);
      setPhase({ step: 'creating' });
      const created = await createDataset(api, {
        name: name.trim(),
        format,
        sizeBytes: file.size,
        sha256,
        license,
        ttlDays: Number(ttlDays),
        deleteAfterTraining,
      });
      void queryClient.invalidateQueries({ queryKey: ['datasets'] });
      setPhase({ step: 'uploading', fraction: 0 });
      const parts = await uploadToStorage(file, created.upload, (fraction) => setPhase({ step: 'uploading', fraction }), abort.current.signal);
      setPhase({ step: 'verifying' });
      const dataset = await completeDataset(api, created.dataset.id, parts);
      setPhase({ step: 'done', dataset });
    } catch (caught) {
      setError(caught);
      setPhase({ step: 'idle' });
    } finally {
      abort.current = null;
      void queryClient.invalidateQueries({ queryKey: ['datasets'] });
    }
  }

  const percent = phase.step === 'uploading' ? Math.round(phase.fraction * 100) : phase.step === 'verifying' || phase.step === 'done' ? 100 : 0;

  return (
    <section className="card" aria-labelledby="upload-heading">
      <h2 id="upload-heading">Upload a dataset</h2>
      <form onSubmit={(e) => void upload(e)}>
        <Field label="File" type="file" accept=".jsonl,.ndjson,.csv,.parquet,.tar,.zip" onChange={(e) => choose(e.target.files?.[0] ?? null)} disabled={busy} hint="JSONL, CSV or Parquet for text; an image folder as .tar or .zip." />
        {file ? (
          <>
            <p className="muted">
              {file.name}, {formatBytes(file.size)}
            </p>
            <div className="grid-2">
              <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} disabled={busy} />
              <SelectField label="Format" value={format} onChange={(e) => setFormat(e.target.value as DatasetFormat)} disabled={busy}>
                {DATASET_FORMATS.map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </SelectField>
              <SelectField label="Licence" value={license} onChange={(e) => setLicense(e.target.value)} disabled={busy} hint="own-data: data you own. Moderation rejects other licences.">
                {LICENSES.map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
              </SelectField>
              <Field label="Keep for (days)" type="number" min={1} max={365} value={ttlDays} onChange={(e) => setTtlDays(e.target.value)} disabled={busy} />
            </div>
            <label className="check">
              <input type="checkbox" checked={deleteAfterTraining} onChange={(e) => setDeleteAfterTraining(e.target.checked)} disabled={busy} /> Delete it as soon as a training job that used it ends
            </label>
          </>
        ) : null}
        {phase.step !== 'idle' && phase.step !== 'done' ? (
          <div className="upload-progress">
            <label htmlFor="upload-progress">
              {phase.step === 'hashing'
                ? 'Computing the SHA-256 checksum in your browser…'
                : phase.step === 'creating'
                  ? 'Creating the dataset…'
                  : phase.step === 'uploading'
                    ? `Uploading straight to storage: ${percent}%`
                    : 'Verifying the checksum and checking the content…'}
            </label>
            <progress id="upload-progress" className="progress" max={100} value={phase.step === 'hashing' || phase.step === 'creating' ? undefined : percent} />
            {phase.step === 'uploading' ? (
              <button type="button" className="secondary small" onClick={() => abort.current?.abort()}>
                Cancel upload
              </button>
            ) : null}
          </div>
        ) : null}
        {sha ? (
          <p className="muted">
            SHA-256 <code className="mono">{sha}</code>
          </p>
        ) : null}
        <ErrorMessage error={error} />
        <button type="submit" disabled={!file || busy || phase.step === 'done' || name.trim() === ''}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      {phase.step === 'done' ? <DatasetResult dataset={phase.dataset} /> : null}
    </section>
  );
}
