import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiClient, memoryStore } from '../lib/api-client.js';
import { createQueryClient, App } from './app.js';

afterEach(cleanup);
beforeEach(() => window.history.replaceState(null, '', '/'));

const me = (isAdmin: boolean) => ({
  id: 'u1',
  email: 'ada@example.com',
  name: 'Ada',
  isAdmin,
  twoFactorEnabled: true,
  createdAt: '2026-11-22T00:00:00Z',
  actingOrgId: 'o1',
  authenticatedWith: 'session',
  scopes: null,
  organizations: [{ id: 'o1', name: 'Ada', role: 'owner', personal: true, providerEnabled: false }],
});

function client(isAdmin: boolean): ApiClient {
  const fetchImpl = (async (input: RequestInfo | URL) => {
    const url = String(input);
    if (url === '/v1/me') return new Response(JSON.stringify(me(isAdmin)), { status: 200 });
    return new Response(JSON.stringify({ code: 'not_found', message: 'Not here.' }), { status: 404 });
  }) as typeof fetch;
  const api = new ApiClient({ fetch: fetchImpl, storage: memoryStore() });
  api.setTokens({ accessToken: 'a', refreshToken: 'r' });
  return api;
}

describe('App routes', () => {
  it('sends a signed-out visitor to sign in, remembering where they were going', async () => {
    window.history.replaceState(null, '', '/billing');
    render(<App client={new ApiClient({ storage: memoryStore() })} queryClient={createQueryClient()} />);
    await screen.findByRole('heading', { name: 'Sign in to Anneal' });
    expect(window.location.pathname + window.location.search).toBe('/login?next=%2Fbilling');
  });

  it('shows the admin console only to admins, and a sentence for an unknown page', async () => {
    window.history.replaceState(null, '', '/admin/users');
    render(<App client={client(false)} queryClient={createQueryClient()} />);
    await screen.findByText('This page does not exist');
    expect(screen.queryByRole('heading', { name: 'Admin' })).toBeNull();
    cleanup();

    render(<App client={client(true)} queryClient={createQueryClient()} />);
    await screen.findByRole('heading', { name: 'Users', level: 1 });
    expect(screen.getByRole('heading', { name: 'Admin' })).toBeTruthy();
  });
});
