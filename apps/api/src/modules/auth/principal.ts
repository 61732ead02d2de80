import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { OrgRole } from '../orgs/entities/membership.entity.js';
import type { Scope } from './scopes.js';

/** Who is asking: a signed-in user (session) or an API key, acting for one organization. */
export interface Principal {
  kind: 'session' | 'api_key';
  userId: string;
  /** The organization this request acts for. */
  orgId: string;
  orgRole: OrgRole;
  isAdmin: boolean;
  twoFactorEnabled: boolean;
  /** Sessions may do everything their user may; API keys only what their scopes allow. */
  scopes: readonly Scope[] | 'all';
  sessionId?: string;
  apiKeyId?: string;
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

export type AuthenticatedRequest = { principal?: Principal; ip?: string; headers: Record<string, string | string[] | undefined> };

export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.principal) throw new Error('CurrentPrincipal used on a public route');
  return request.principal;
});

/** Client IP and user agent, for the audit log and sessions. */
export const ClientMeta = createParamDecorator((_: unknown, context: ExecutionContext): RequestMeta => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  const agent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null };
});
