import { describe, expect, it } from 'vitest';
import type { Me } from '../features/auth/api/auth.api.js';
import { navSections } from './shell.js';

function me(overrides: Partial<Me> = {}, providerEnabled = false): Me {
  return {
    id: 'u',
    email: 'ada@example.com',
    name: 'Ada',
    isAdmin: false,
    twoFactorEnabled: false,
    createdAt: '2026-11-22T00:00:00Z',
    actingOrgId: 'o1',
    authenticatedWith: 'session',
    scopes: null,
    organizations: [{ id: 'o1', name: 'Ada', role: 'owner', personal: true, providerEnabled }],
    ...overrides,
  };
}

const labels = (sections: ReturnType<typeof navSections>) => sections.map((s) => `${s.title}: ${s.items.map((i) => i.label).join(', ')}`);

describe('navSections', () => {
  it('offers a customer the customer console and a way to become a provider', () => {
    const nav = labels(navSections(me()));
    expect(nav[0]).toMatch(/^Customer: Overview, .*API keys, Account$/);
    expect(nav[1]).toBe('Provider: Provide GPUs');
    expect(nav.some((line) => line.startsWith('Admin'))).toBe(false);
  });

  it('shows provider nodes when the acting org has the provider role', () => {
    expect(labels(navSections(me({}, true)))[1]).toMatch(/^Provider: Nodes/);
  });

  it('shows nothing of the provider console for another org of the user', () => {
    const m = me({ actingOrgId: 'o2', organizations: [
      { id: 'o1', name: 'Ada', role: 'owner', personal: true, providerEnabled: true },
      { id: 'o2', name: 'Lab', role: 'member', personal: false, providerEnabled: false },
    ] });
    expect(labels(navSections(m))[1]).toBe('Provider: Provide GPUs');
  });
});
