import type { ApiClient, TokenPair } from '../../../lib/api-client.js';

export interface OrgSummary {
  id: string;
  name: string;
  role: 'owner' | 'admin' | 'member';
  personal: boolean;
  providerEnabled: boolean;
}

/** `GET /v1/me`. */
export interface Me {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
  twoFactorEnabled: boolean;
  createdAt: string;
  actingOrgId: string;
  authenticatedWith: string;
  scopes: string[] | null;
  organizations: OrgSummary[];
}

export interface LoginInput {
  email: string;
  password: string;
  totpCode?: string;
  recoveryCode?: string;
}

export function signup(api: ApiClient, input: { email: string; password: string; name: string }): Promise<TokenPair> {
  return api.post<TokenPair>('/v1/auth/signup', input, { anonymous: true });
}

export function login(api: ApiClient, input: LoginInput): Promise<TokenPair> {
  return api.post<TokenPair>('/v1/auth/login', input, { anonymous: true });
}

export function logout(api: ApiClient): Promise<void> {
  return api.post<void>('/v1/auth/logout');
}

export function fetchMe(api: ApiClient, signal?: AbortSignal): Promise<Me> {
  return api.get<Me>('/v1/me', signal);
}

export function enrollTwoFactor(api: ApiClient): Promise<{ secret: string; otpauthUri: string }> {
  return api.post('/v1/auth/2fa/enroll');
}

export function verifyTwoFactor(api: ApiClient, code: string): Promise<{ recoveryCodes: string[] }> {
  return api.post('/v1/auth/2fa/verify', { code });
}

export function disableTwoFactor(api: ApiClient, input: { totpCode?: string; recoveryCode?: string }): Promise<void> {
  return api.post('/v1/auth/2fa/disable', input);
}
