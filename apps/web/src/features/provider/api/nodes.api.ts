import type { ApiClient } from '../../../lib/api-client.js';

export type NodeStatus = 'online' | 'suspect' | 'offline';

export interface GpuTelemetry {
  index: number;
  name: string;
  gpuId: string | null;
  utilizationPct: number | null;
  temperatureC: number | null;
  powerW: number | null;
  vramUsedMb: number | null;
  vramTotalMb: number | null;
}

export interface ProviderNode {
  id: string;
  hostname: string;
  status: NodeStatus;
  statusSince: string;
  agentState: string | null;
  agentVersion: string | null;
  lastHeartbeatAt: string | null;
  gpuModelId: string;
  gpuName: string;
  gpuCount: number;
  vramGb: number | null;
  region: string | null;
  priceMicrosPerGpuHour: string;
  listed: boolean;
  draining: boolean;
  simulated: boolean;
  /** 0..1 */
  reliability: number;
  runningAttempt: { attemptId: string; jobId: string; phase: string } | null;
  telemetry: GpuTelemetry[];
  createdAt: string;
}

export interface NodeDetail extends ProviderNode {
  uptime30d: number | null;
  telemetry: GpuTelemetry[];
  /** Time series; each sample's gpus have the same fields as `telemetry`. */
  rejectedMessages: Record<string, number>;
  stateHistory: { from: NodeStatus | null; to: NodeStatus; at: string; reason: string }[];
}

export interface NodeDetailResponse extends Omit<NodeDetail, 'telemetry'> {
  telemetry: { at: string; gpus: Partial<GpuTelemetry>[]; runningAttemptId: string | null }[];
}

export interface JoinToken {
  id: string;
  token: string;
  expiresAt: string;
  command: string;
}

export const listNodes = (api: ApiClient, signal?: AbortSignal) => api.get<ProviderNode[]>('/v1/provider/nodes', signal);
export const getNode = (api: ApiClient, id: string, hours: number, signal?: AbortSignal) => api.get<NodeDetailResponse>(`/v1/provider/nodes/${encodeURIComponent(id)}?hours=${hours}`, signal);
export const createJoinToken = (api: ApiClient) => api.post<JoinToken>('/v1/provider/nodes/join-tokens');
export const updateNode = (api: ApiClient, id: string, body: { priceMicrosPerGpuHour?: string; listed?: boolean; draining?: boolean }) =>
  api.patch<ProviderNode>(`/v1/provider/nodes/${encodeURIComponent(id)}`, body);
export const drainNode = (api: ApiClient, id: string, reason?: string) => api.post<ProviderNode>(`/v1/provider/nodes/${encodeURIComponent(id)}/drain`, reason ? { reason } : {});
export const removeNode = (api: ApiClient, id: string) => api.delete<void>(`/v1/provider/nodes/${encodeURIComponent(id)}`);
