import type { ApiClient } from '../../../lib/api-client.js';
import type { Money } from '../../billing/api/billing.api.js';

export const DISPUTE_REASONS = [
  { value: 'node_failed', label: 'The machine failed or disappeared' },
  { value: 'slower_than_offered', label: 'It ran much slower than offered' },
  { value: 'wrong_gpu', label: 'It was not the GPU offered' },
  { value: 'billed_wrongly', label: 'I was billed wrongly' },
  { value: 'other', label: 'Something else' },
] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number]['value'];
export const DISPUTE_RESOLUTIONS = ['full_refund', 'partial_refund', 'rejected'] as const;
export type DisputeResolution = (typeof DISPUTE_RESOLUTIONS)[number];

export interface DisputeSummary {
  id: string;
  role: 'customer' | 'provider' | 'admin';
  jobId: string;
  attemptId: string;
  nodeId: string | null;
  providerKind: string;
  reason: DisputeReason;
  status: 'open' | 'answered' | 'resolved';
  charged: Money;
  resolution: DisputeResolution | null;
  refund: Money | null;
  customerOrgId?: string;
  providerOrgId?: string;
  suggestion?: { outcome: string; reason: string };
  createdAt: string;
  resolvedAt: string | null;
}

export interface DisputeEvidence {
  assembledAt: string;
  attempt: { id: string; number: number; providerKind: string; status: string; endReason: string | null; runningAt: string | null; endedAt: string | null };
  gpu: { offeredModel: string; offeredCount: number; reportedName: string | null; reportedCount: number | null; matches: boolean | null };
  heartbeats: { gaps: { from: string; to: string; seconds: number; state: string }[]; offlineBeforeEndSeconds: number | null; events: unknown[] };
  telemetry: { summary: { sampleCount: number; utilizationPctMean: number | null; temperatureCMax: number | null; powerWMean: number | null } };
  stepTime: { measured: { count: number; meanMs: number; p50Ms: number } | null; benchmark: { p50Ms: number; p90Ms: number; basisText: string } | null; ratioToP90: number | null };
  events: { at: string; type: string; toStatus: string | null; message: string }[];
  logs: { at: string; stream: string; line: string }[];
  metering: { billableSeconds: number | null; priceMicrosPerGpuHour: string; gpuCount: number; costMicros: string; chargedMicros: string; providerShareMicros: string; platformFeeMicros: string };
  ledger: { code?: string; amountMicros?: string; description?: string; [key: string]: unknown }[];
}

export interface Dispute extends DisputeSummary {
  description: string;
  providerStatement: string | null;
  providerRespondedAt: string | null;
  suggestion: { outcome: string; refund: Money; reason: string; findings: string[] };
  evidence: DisputeEvidence;
  resolutionNote: string | null;
  refundFromProvider?: Money | null;
  refundFromPlatform?: Money | null;
  receivable?: Money | null;
  consequences?: unknown;
  updatedAt: string;
}

export interface ResolveInput {
  resolution: DisputeResolution;
  refundUsd?: string;
  note: string;
  reliabilityPenalty?: number;
  quarantineNode?: boolean;
}

export const openDispute = (api: ApiClient, input: { jobId: string; attemptId?: string; reason: DisputeReason; description: string }) => api.post<Dispute>('/v1/disputes', input);
export const listDisputes = (api: ApiClient, signal?: AbortSignal) => api.get<{ items: DisputeSummary[]; nextCursor: string | null }>('/v1/disputes?limit=100', signal);
export const getDispute = (api: ApiClient, id: string, signal?: AbortSignal) => api.get<Dispute>(`/v1/disputes/${encodeURIComponent(id)}`, signal);
export const respondDispute = (api: ApiClient, id: string, statement: string) => api.post<Dispute>(`/v1/disputes/${encodeURIComponent(id)}/respond`, { statement });
export const adminListDisputes = (api: ApiClient, status: string, signal?: AbortSignal) =>
  api.get<{ items: DisputeSummary[]; nextCursor: string | null }>(`/v1/admin/disputes?limit=100${status ? `&status=${status}` : ''}`, signal);
export const adminGetDispute = (api: ApiClient, id: string, signal?: AbortSignal) => api.get<Dispute>(`/v1/admin/disputes/${encodeURIComponent(id)}`, signal);
export const adminResolveDispute = (api: ApiClient, id: string, input: ResolveInput) => api.post<Dispute>(`/v1/admin/disputes/${encodeURIComponent(id)}/resolve`, input);

export function reasonLabel(reason: string): string {
  return DISPUTE_REASONS.find((r) => r.value === reason)?.label ?? reason.replace(/_/g, ' ');
}
