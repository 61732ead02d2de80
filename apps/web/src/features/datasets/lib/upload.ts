import { UserFacingError } from '../../../lib/api-error.js';
import type { DatasetFormat, UploadPlan } from '../api/datasets.api.js';

/** The dataset format a file name implies, if any. */
export function formatOf(fileName: string): DatasetFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.tar')) return 'tar';
  if (lower.endsWith('.zip')) return 'zip';
  return undefined;
}

/** SHA-256 of a file, hex, computed in the browser before anything is sent. */
export async function sha256Hex(file: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(await bytesOf(file)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The bytes of a Blob (FileReader where Blob.arrayBuffer is missing, as in older engines). */
function bytesOf(file: Blob): Promise<ArrayBuffer> {
  if (typeof file.arrayBuffer === 'function') return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error ?? new UploadError('The file could not be read.'));
    reader.readAsArrayBuffer(file);
  });
}

/** "1.4 MB", "312 KB", "18 B". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export class UploadError extends UserFacingError {}

/** One PUT with upload progress (fetch has none); resolves with the response's ETag. */
export function putWithProgress(url: string, body: Blob, headers: Record<string, string>, onProgress: (loadedBytes: number) => void, signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) {
      // The browser sets these itself and refuses to have them set.
      if (!['host', 'content-length'].includes(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader('ETag'));
      else reject(new UploadError(`The storage service refused the upload (HTTP ${xhr.status}). Try again; if it keeps failing, create the dataset again.`));
    };
    xhr.onerror = () => reject(new UploadError('The upload could not reach the storage service (network error or a missing CORS rule on the bucket).'));
    xhr.onabort = () => reject(new UploadError('The upload was canceled.'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/**
 * Uploads the file straight to storage as the plan says (one presigned PUT, or one per part);
 * returns the parts with their ETags for a multipart upload.
 */
export async function uploadToStorage(file: Blob, plan: UploadPlan, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<{ partNumber: number; etag: string }[] | undefined> {
  const total = file.size || 1;
  if (plan.kind === 'single') {
    await putWithProgress(plan.url, file, plan.headers, (loaded) => onProgress(Math.min(loaded / total, 1)), signal);
    onProgress(1);
    return undefined;
  }
  const done: { partNumber: number; etag: string }[] = [];
  let uploadedBefore = 0;
  for (const part of plan.parts) {
    const start = (part.partNumber - 1) * plan.partSizeBytes;
    const etag = await putWithProgress(part.url, file.slice(start, start + part.sizeBytes), plan.headers, (loaded) => onProgress(Math.min((uploadedBefore + loaded) / total, 1)), signal);
    if (!etag) throw new UploadError('The storage service did not return the ETag of a part (its CORS rule must expose the ETag header).');
    done.push({ partNumber: part.partNumber, etag });
    uploadedBefore += part.sizeBytes;
  }
  onProgress(1);
  return done;
}
