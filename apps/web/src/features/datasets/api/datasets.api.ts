import type { ApiClient } from '../../../lib/api-client.js';

export const DATASET_FORMATS = ['jsonl', 'csv', 'parquet', 'tar', 'zip'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export interface Dataset {
  id: string;
  name: string;
  format: DatasetFormat;
  license: string | null;
  sizeBytes: number;
  sha256: string;
  status: 'uploading' | 'ready' | 'failed' | 'deleted';
  failureCode: string | null;
  uploadKind: 'single' | 'multipart';
  sampleCount: number | null;
  tokenCountEstimate: number | null;
  tokenCountNote: string | null;
  encryption: string;
  ttlDays: number;
  deleteAfterTraining: boolean;
  createdAt: string;
  completedAt: string | null;
  expiresAt: string;
  deletedAt: string | null;
  deletionReason: string | null;
  moderation: { outcome: 'passed' | 'rejected'; reasons: { code: string; message: string }[]; checkedAt: string; reviewed: boolean } | null;
}

export type UploadPlan =
  | { kind: 'single'; method: string; url: string; headers: Record<string, string>; expiresAt: string }
  | { kind: 'multipart'; partSizeBytes: number; partCount: number; parts: { partNumber: number; sizeBytes: number; method: string; url: string }[]; headers: Record<string, string>; expiresAt: string };

export interface CreateDatasetInput {
  name: string;
  format: DatasetFormat;
  sizeBytes: number;
  sha256: string;
  license?: string;
  ttlDays?: number;
  deleteAfterTraining?: boolean;
}

export const createDataset = (api: ApiClient, input: CreateDatasetInput) => api.post<{ dataset: Dataset; upload: UploadPlan }>('/v1/datasets', input);
export const completeDataset = (api: ApiClient, id: string, parts?: { partNumber: number; etag: string }[]) =>
  api.post<Dataset>(`/v1/datasets/${encodeURIComponent(id)}/complete`, parts ? { parts } : {});
export const listDatasets = (api: ApiClient, signal?: AbortSignal) => api.get<{ items: Dataset[]; nextCursor: string | null }>('/v1/datasets?limit=100', signal);
export const downloadDataset = (api: ApiClient, id: string) => api.get<{ url: string; fileName: string; expiresAt: string }>(`/v1/datasets/${encodeURIComponent(id)}/download`);
export const deleteDataset = (api: ApiClient, id: string) => api.delete<unknown>(`/v1/datasets/${encodeURIComponent(id)}`);
