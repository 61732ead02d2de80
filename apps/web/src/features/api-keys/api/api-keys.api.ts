import type { ApiClient } from '../../../lib/api-client.js';

export const SCOPES = [
  'jobs:read',
  'jobs:write',
  'datasets:read',
  'datasets:write',
  'nodes:read',
  'nodes:write',
  'billing:read',
  'billing:write',
  'orgs:read',
  'orgs:write',
] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export const listApiKeys = (api: ApiClient, signal?: AbortSignal) => api.get<ApiKey[]>('/v1/api-keys', signal);
export const createApiKey = (api: ApiClient, input: { name: string; scopes: Scope[] }) => api.post<ApiKey & { key: string }>('/v1/api-keys', input);
export const revokeApiKey = (api: ApiClient, id: string) => api.delete<ApiKey>(`/v1/api-keys/${encodeURIComponent(id)}`);
