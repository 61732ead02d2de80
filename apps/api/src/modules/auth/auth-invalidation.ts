import type { Principal } from './principal.js';

/**
 * What stopped being true about some principals: a session or API key revoked, a user suspended,
 * deleted or changed (2FA, admin), a membership removed or its role changed.
 */
export type AuthInvalidation =
  | { kind: 'session'; sessionId: string }
  | { kind: 'api_key'; apiKeyId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'membership'; userId: string; orgId: string };

/** Whether a resolved principal depends on what the invalidation names. */
export function affects(invalidation: AuthInvalidation, principal: Principal): boolean {
  switch (invalidation.kind) {
    case 'session':
      return principal.sessionId === invalidation.sessionId;
    case 'api_key':
      return principal.apiKeyId === invalidation.apiKeyId;
    case 'user':
      return principal.userId === invalidation.userId;
    case 'membership':
      return principal.userId === invalidation.userId && principal.orgId === invalidation.orgId;
  }
}

/** What one replica tells the others on `anneal.auth.invalidate`. */
export interface InvalidationMessage {
  schemaVersion: 1;
  invalidations: AuthInvalidation[];
}

const ID = /^[0-9a-f-]{36}$/i;
const isId = (value: unknown): value is string => typeof value === 'string' && ID.test(value);

/** The invalidations of a message, or undefined when any part of it is not one. */
export function parseInvalidationMessage(input: unknown): AuthInvalidation[] | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const message = input as Record<string, unknown>;
  if (message.schemaVersion !== 1 || !Array.isArray(message.invalidations)) return undefined;
  const out: AuthInvalidation[] = [];
  for (const item of message.invalidations as unknown[]) {
    if (typeof item !== 'object' || item === null) return undefined;
    const i = item as Record<string, unknown>;
    if (i.kind === 'session' && isId(i.sessionId)) out.push({ kind: 'session', sessionId: i.sessionId });
    else if (i.kind === 'api_key' && isId(i.apiKeyId)) out.push({ kind: 'api_key', apiKeyId: i.apiKeyId });
    else if (i.kind === 'user' && isId(i.userId)) out.push({ kind: 'user', userId: i.userId });
    else if (i.kind === 'membership' && isId(i.userId) && isId(i.orgId)) out.push({ kind: 'membership', userId: i.userId, orgId: i.orgId });
    else return undefined;
  }
  return out;
}
