import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useSyncExternalStore, type ReactNode } from 'react';
import type { ApiClient } from '../../../lib/api-client.js';
import { fetchMe, type Me, type OrgSummary } from '../api/auth.api.js';

const ApiContext = createContext<ApiClient | null>(null);

/** Gives the tree its API client; clears cached server state when the session ends. */
export function ApiProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  const queryClient = useQueryClient();
  useEffect(
    () =>
      client.subscribe(() => {
        if (!client.hasSession) queryClient.clear();
      }),
    [client, queryClient],
  );
  return <ApiContext.Provider value={client}>{children}</ApiContext.Provider>;
}

export function useApi(): ApiClient {
  const client = useContext(ApiContext);
  if (!client) throw new Error('useApi needs an <ApiProvider>');
  return client;
}

/** Whether a session exists (a token in memory or a refresh token stored), and the acting org. */
export function useSession(): { signedIn: boolean; orgId: string | null } {
  const api = useApi();
  const snapshot = useSyncExternalStore(
    (listener) => api.subscribe(listener),
    () => `${api.hasSession ? 1 : 0}|${api.orgId ?? ''}`,
  );
  const [signedIn, orgId] = snapshot.split('|');
  return { signedIn: signedIn === '1', orgId: orgId ? orgId : null };
}

export const meQueryKey = (orgId: string | null) => ['me', orgId ?? 'default'] as const;

/** `GET /v1/me` for the acting org. */
export function useMe() {
  const api = useApi();
  const { signedIn, orgId } = useSession();
  return useQuery<Me>({ queryKey: meQueryKey(orgId), queryFn: ({ signal }) => fetchMe(api, signal), enabled: signedIn, staleTime: 30_000 });
}

/** The organization requests act for, from `me`. */
export function actingOrg(me: Me | undefined): OrgSummary | undefined {
  return me?.organizations.find((org) => org.id === me.actingOrgId);
}

export type Roles = { customer: boolean; provider: boolean; admin: boolean };

/** Which consoles the nav shows: everybody is a customer; provider when the acting org has it on. */
export function rolesOf(me: Me | undefined): Roles {
  return { customer: me !== undefined, provider: actingOrg(me)?.providerEnabled === true, admin: me?.isAdmin === true };
}
