import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, renderWithApi } from '../../../test-utils.js';
import type { ApiKey } from '../api/api-keys.api.js';
import { ApiKeysPage } from './api-keys-page.js';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const key: ApiKey = { id: 'k1', name: 'CI', prefix: 'ak_abcdefgh', scopes: ['jobs:read'], createdBy: 'u', createdAt: '2026-11-22T08:00:00Z', lastUsedAt: null, revokedAt: null };

describe('ApiKeysPage', () => {
  it('shows a new key once with its scopes, and revokes only after confirmation', async () => {
    let keys: ApiKey[] = [];
    const { requests } = renderWithApi(<ApiKeysPage />, (url, init) => {
      if (url === '/v1/api-keys' && init.method === 'POST') {
        keys = [key];
        return json(201, { ...key, key: 'ak_abcdefgh_secretpart' });
      }
      if (url === '/v1/api-keys') return json(200, keys);
      if (url === '/v1/api-keys/k1' && init.method === 'DELETE') {
        keys = [{ ...key, revokedAt: '2026-11-22T08:05:00Z' }];
        return json(200, keys[0]);
      }
      return undefined;
    });
    await screen.findByText('No API keys yet');
    fireEvent.change(screen.getByLabelText('Key name'), { target: { value: 'CI' } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'jobs:write' })); // off
    fireEvent.click(screen.getByRole('checkbox', { name: 'datasets:read' })); // off
    fireEvent.click(screen.getByRole('checkbox', { name: 'datasets:write' })); // off
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    expect((await screen.findByTestId('new-api-key')).textContent).toBe('ak_abcdefgh_secretpart');
    expect(requests.find((r) => r.method === 'POST')?.body).toEqual({ name: 'CI', scopes: ['jobs:read'] });
    await screen.findByTestId('api-key-ak_abcdefgh');

    const confirm = vi.spyOn(window, 'confirm').mockReturnValueOnce(false).mockReturnValueOnce(true);
    fireEvent.click(screen.getByRole('button', { name: 'Revoke CI' }));
    expect(requests.some((r) => r.method === 'DELETE')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Revoke CI' }));
    await screen.findByText('revoked');
    expect(confirm).toHaveBeenCalledTimes(2);
    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByTestId('new-api-key')).toBeNull();
  });
});
