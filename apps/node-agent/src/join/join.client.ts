import { joinResponseSchema, type JoinRequest, type JoinResponse } from '@anneal/providers';
import { AgentError } from '../agent.errors.js';

export type FetchFn = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
}>;

/** The URL of the join endpoint under an API base URL ('https://api.anneal.dev' or '…/v1'). */
export function joinUrl(apiUrl: string): string {
  const base = apiUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${base}/v1/provider/nodes/join`;
}

/** POST /v1/provider/nodes/join. Errors carry the API's own message when it sends one. */
export async function joinNode(fetchFn: FetchFn, apiUrl: string, request: JoinRequest, timeoutMs = 30_000): Promise<JoinResponse> {
  const url = joinUrl(apiUrl);
  let response: Awaited<ReturnType<FetchFn>>;
  try {
    response = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
    const why = `${error instanceof Error ? error.message : String(error)}${typeof cause === 'string' ? ` (${cause})` : ''}`;
    throw new AgentError('join_failed', `Could not reach the Anneal API at ${url}: ${why}`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const apiMessage = typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : null;
    const apiCode = typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string' ? (body as { code: string }).code : null;
    throw new AgentError('join_failed', `The API refused the registration (HTTP ${response.status}${apiCode ? `, ${apiCode}` : ''})${apiMessage ? `: ${apiMessage}` : ''}`);
  }
  const parsed = joinResponseSchema.safeParse(body);
  if (!parsed.success) {
    throw new AgentError('join_failed', `The API answered the registration with an unexpected body (${parsed.error.issues[0]?.path.join('.') ?? 'root'}: ${parsed.error.issues[0]?.message ?? ''})`);
  }
  return parsed.data;
}
