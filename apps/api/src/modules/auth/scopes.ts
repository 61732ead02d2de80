import { SetMetadata } from '@nestjs/common';

/** What an API key may be allowed to do. Sessions are not limited by scopes. */
export const SCOPES = [
  'jobs:read',
  'jobs:write',
  'datasets:read',
  'datasets:write',
  'nodes:read',
  'nodes:write',
  'billing:read',
  'billing:write',
  'orgs:read',
  'orgs:write',
] as const;

export type Scope = (typeof SCOPES)[number];

export const REQUIRED_SCOPES = 'anneal:requiredScopes';
export const ADMIN_ONLY = 'anneal:adminOnly';
export const SESSION_ONLY = 'anneal:sessionOnly';

/** An API key must carry every one of these scopes to call the route. */
export const RequireScopes = (...scopes: Scope[]) => SetMetadata(REQUIRED_SCOPES, scopes);

/** Platform admins with two-factor authentication enabled, signed in (not by API key). */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/** Account security routes: a signed-in user, never an API key. */
export const SessionOnly = () => SetMetadata(SESSION_ONLY, true);
