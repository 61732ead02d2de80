import type { ApiClient } from '../../../lib/api-client.js';

export interface AdminUser {
  id: string;
  email: string | null;
  name: string;
  status: 'active' | 'suspended' | string;
  isAdmin: boolean;
  twoFactorEnabled: boolean;
  createdAt: string;
  flagged: boolean;
  moderation: { rejected?: number; total?: number; rate?: number; [key: string]: unknown } | null;
}

export interface AdminNode {
  id: string;
  orgId: string;
  hostname: string;
  gpuName: string;
  gpuCount: number;
  priceMicrosPerGpuHour: string;
  simulated: boolean;
  listed: boolean;
  state: string;
  lastHeartbeatAt: string | null;
  quarantinedAt: string | null;
  quarantineReason: string | null;
  reliabilityPenalty: number;
  reliability: number | null;
}

export interface ModerationItem {
  id: string;
  subjectType: string;
  subjectId: string;
  subjectName: string | null;
  orgId: string;
  outcome: string;
  rules: { code: string; message: string }[];
  createdAt: string;
  review: { outcome: string; decision: string; reviewedAt: string | null; note: string | null } | null;
}

export interface AuditEntry {
  id: string;
  occurredAt: string;
  actorUserId: string | null;
  actorRef: string | null;
  orgId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: unknown;
}

type Page<T> = { items: T[]; nextCursor: string | null };
const q = (params: Record<string, string>) => {
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
  return search.toString() ? `?${search}` : '';
};

export const adminUsers = (api: ApiClient, params: { q: string; status: string }, signal?: AbortSignal) => api.get<Page<AdminUser>>(`/v1/admin/users${q({ ...params, limit: '100' })}`, signal);
export const suspendUser = (api: ApiClient, id: string, reason: string) => api.post<AdminUser>(`/v1/admin/users/${id}/suspend`, { reason });
export const reinstateUser = (api: ApiClient, id: string) => api.post<AdminUser>(`/v1/admin/users/${id}/reinstate`, {});
export const adminNodes = (api: ApiClient, quarantined: string, signal?: AbortSignal) => api.get<Page<AdminNode>>(`/v1/admin/nodes${q({ quarantined, limit: '100' })}`, signal);
export const quarantineNode = (api: ApiClient, id: string, reason: string) => api.post<AdminNode>(`/v1/admin/nodes/${id}/quarantine`, { reason });
export const releaseNode = (api: ApiClient, id: string) => api.post<AdminNode>(`/v1/admin/nodes/${id}/release`, {});
export const moderationQueue = (api: ApiClient, status: string, signal?: AbortSignal) => api.get<Page<ModerationItem>>(`/v1/admin/moderation${q({ status, limit: '100' })}`, signal);
export const reviewModeration = (api: ApiClient, id: string, decision: 'uphold' | 'override', note: string) => api.post<unknown>(`/v1/admin/moderation/${id}/review`, { decision, note });
export const searchAudit = (api: ApiClient, params: { action: string; actor: string }, signal?: AbortSignal) =>
  api.get<Page<AuditEntry>>(`/v1/admin/audit${q({ ...params, limit: '100' })}`, signal);
