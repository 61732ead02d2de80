import type { ApiClient } from '../../../lib/api-client.js';
import type { ResourcesInput } from '../../estimates/api/estimates.api.js';

export type JobStatus = 'queued' | 'matching' | 'provisioning' | 'running' | 'uploading' | 'succeeded' | 'failed' | 'canceled';
export const TERMINAL: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];

export interface Attempt {
  id: string;
  number: number;
  providerKind: string;
  offerId: string;
  nodeId: string | null;
  gpuModel: string;
  gpuCount: number;
  priceMicrosPerGpuHour: string;
  status: string;
  endReason: string | null;
  createdAt: string;
  runningAt: string | null;
  endedAt: string | null;
  billableSeconds: number | null;
  costMicros: string;
}

export interface Job {
  id: string;
  name: string | null;
  status: JobStatus;
  waitingBecause: string | null;
  /** As the API stores it: `sequenceLength`, `imageResolution`, … */
  recipe: Record<string, unknown> & { baseModelId: string; method: string };
  datasetId: string;
  resources: ResourcesInput;
  providerAllowlist: string[] | null;
  maxPriceMicrosPerGpuHour: string | null;
  budgetCapMicros: string | null;
  holdMicros: string;
  steps: number;
  estimate: { runtimeSeconds: { p10: number; p50: number; p90: number }; costMicros: { p10: string; p50: string; p90: string }; summary: string } | null;
  actual: { runtimeSeconds: number | null; costMicros: string };
  costSoFarMicros: string;
  cancelRequested: boolean;
  finalMessage: string | null;
  attempts: Attempt[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobEvent {
  id: string;
  at: string;
  type: string;
  attemptId: string | null;
  from: string | null;
  to: string | null;
  message: string | null;
}

export interface LogLine {
  /** The stored order; null for a line that arrived on the live stream (known after the next read). */
  seq: number | null;
  at: string;
  stream: string;
  line: string;
}

export interface JobLogs {
  lines: LogLine[];
  nextAfterSeq: number;
}

export interface MetricPoint {
  step: number;
  at: string;
  loss: number | null;
  stepTimeMs: number | null;
  gpuUtilizationPct: number | null;
}

export interface JobMetrics {
  points: MetricPoint[];
}

/** What the job stream sends after its `job` snapshot, as `event`, `metric` and `logs` events. */
export type JobLiveMessage =
  | { kind: 'event'; event: { type: string; toStatus?: string | null } }
  | { kind: 'metric'; step: number; loss: number | null; stepTimeMs: number | null; gpuUtilizationPct: number | null }
  | { kind: 'logs'; lines: string[]; stream: string };

/** Query keys of one job and of what the page reads about it (a prefix of the job's key). */
export const jobQueryKeys = {
  job: (orgId: string | null, jobId: string) => ['jobs', orgId, jobId] as const,
  part: (orgId: string | null, jobId: string, part: 'events' | 'logs' | 'metrics' | 'artifacts') => ['jobs', orgId, jobId, part] as const,
};

/** What `POST /v1/jobs` takes; the recipe in the API's names (see toApiRecipe). */
export interface SubmitJobInput {
  name?: string;
  recipe: Record<string, unknown>;
  datasetId: string;
  resources: ResourcesInput;
  providerAllowlist?: ('community' | 'gcp' | 'runpod')[];
  maxPricePerGpuHourUsd?: string;
  budgetCapUsd?: string;
  quoteId?: string;
}

export const listJobs = (api: ApiClient, before?: string, signal?: AbortSignal) => api.get<{ jobs: Job[]; nextCursor: string | null }>(`/v1/jobs?limit=25${before ? `&before=${before}` : ''}`, signal);
export const getJob = (api: ApiClient, id: string, signal?: AbortSignal) => api.get<Job>(`/v1/jobs/${encodeURIComponent(id)}`, signal);
export const submitJob = (api: ApiClient, input: SubmitJobInput, idempotencyKey: string) => api.post<Job>('/v1/jobs', input, { idempotencyKey });
export const cancelJob = (api: ApiClient, id: string) => api.post<Job>(`/v1/jobs/${encodeURIComponent(id)}/cancel`);
export const jobEvents = (api: ApiClient, id: string, signal?: AbortSignal) => api.get<JobEvent[]>(`/v1/jobs/${encodeURIComponent(id)}/events`, signal);
export const jobLogs = (api: ApiClient, id: string, signal?: AbortSignal) => api.get<JobLogs>(`/v1/jobs/${encodeURIComponent(id)}/logs?last=1000`, signal);
export const jobMetrics = (api: ApiClient, id: string, signal?: AbortSignal) => api.get<JobMetrics>(`/v1/jobs/${encodeURIComponent(id)}/metrics`, signal);
/** `GET /v1/jobs/:id/stream`: server-sent events (see `followJobStream`). */
export const openJobStream = (api: ApiClient, id: string, signal: AbortSignal) => api.openStream(`/v1/jobs/${encodeURIComponent(id)}/stream`, signal);
export const jobArtifacts = (api: ApiClient, id: string, signal?: AbortSignal) =>
  api.get<{ artifacts: { key: string; name: string; url: string | { url: string } }[]; availableUntil: string | null; expired?: boolean }>(`/v1/jobs/${encodeURIComponent(id)}/artifacts`, signal);
