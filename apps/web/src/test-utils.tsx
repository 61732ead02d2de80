import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { ApiClient, memoryStore } from './lib/api-client.js';
import { ApiProvider } from './features/auth/hooks/use-session.js';

export type Route = (url: string, init: RequestInit) => Response | undefined;

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** Renders UI with a real ApiClient over a scripted fetch; returns the recorded requests. */
export function renderWithApi(ui: ReactNode, route: Route) {
  const requests: { url: string; method: string; body: unknown }[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    requests.push({ url, method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined });
    return route(url, init ?? {}) ?? json(404, { code: 'route_not_found', message: `No route ${url}` });
  }) as typeof fetch;
  const api = new ApiClient({ fetch: fetchImpl, storage: memoryStore() });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const view = render(
    <QueryClientProvider client={queryClient}>
      <ApiProvider client={api}>{ui}</ApiProvider>
    </QueryClientProvider>,
  );
  return { ...view, api, requests };
}
