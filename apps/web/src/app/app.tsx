import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiClient, browserStore } from '../lib/api-client.js';
import { ApiError } from '../lib/api-error.js';
import { ApiProvider } from '../features/auth/hooks/use-session.js';
import { Routes } from './routes.js';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not change by asking again; network blips and 5xx get two more tries.
        retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status < 500),
        refetchOnWindowFocus: false,
      },
    },
  });
}

/** The consoles: one API client and one query cache for the page's life. */
export function App({ client, queryClient }: { client?: ApiClient; queryClient?: QueryClient }) {
  const [api] = useState(() => client ?? new ApiClient({ storage: browserStore() }));
  const [queries] = useState(() => queryClient ?? createQueryClient());
  return (
    <QueryClientProvider client={queries}>
      <ApiProvider client={api}>
        <Routes />
      </ApiProvider>
    </QueryClientProvider>
  );
}
