import type { JobStatus } from '../api/jobs.api.js';

const TONE: Record<string, string> = { succeeded: 'badge-ok', failed: 'badge-off', canceled: 'badge-off', running: 'badge-warn', uploading: 'badge-warn', provisioning: 'badge-warn' };

export function JobStatusBadge({ status }: { status: JobStatus | string }) {
  return <span className={`badge ${TONE[status] ?? ''}`}>{status}</span>;
}
