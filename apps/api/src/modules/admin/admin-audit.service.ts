import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { badRequest } from '../../core/errors/app-error.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';

export interface AuditQuery {
  /** A user id, or an actor reference ("user:…", "api_key:…", "system"). */
  actor?: string;
  /** An action, or a prefix ending in "*" ("dispute.*"). */
  action?: string;
  targetType?: string;
  targetId?: string;
  orgId?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The audit log for admins: filtered, newest first, paged by a cursor. Reading it is audited too. */
@Injectable()
export class AdminAuditService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async search(admin: Principal, query: AuditQuery, meta: RequestMeta) {
    const limit = Math.min(500, Math.max(1, Math.floor(query.limit ?? 100) || 100));
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.actor) {
      if (UUID.test(query.actor)) where.push(`actor_user_id = $${params.push(query.actor)}`);
      else where.push(`actor_ref = $${params.push(query.actor)}`);
    }
    if (query.action) {
      if (query.action.endsWith('*')) where.push(`action LIKE $${params.push(`${query.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
      else where.push(`action = $${params.push(query.action)}`);
    }
    if (query.targetType) where.push(`target_type = $${params.push(query.targetType)}`);
    if (query.targetId) where.push(`target_id = $${params.push(query.targetId)}`);
    if (query.orgId) {
      if (!UUID.test(query.orgId)) throw badRequest('validation_failed', 'orgId must be an id.');
      where.push(`org_id = $${params.push(query.orgId)}`);
    }
    for (const [name, value, op] of [['from', query.from, '>='], ['to', query.to, '<']] as const) {
      if (!value) continue;
      const at = new Date(value);
      if (Number.isNaN(at.getTime())) throw badRequest('validation_failed', `${name} must be an ISO-8601 time.`);
      where.push(`occurred_at ${op} $${params.push(at)}`);
    }
    if (query.cursor) {
      const [iso, id] = query.cursor.split('|');
      const at = iso ? new Date(iso) : new Date(Number.NaN);
      if (!id || !UUID.test(id) || Number.isNaN(at.getTime())) throw badRequest('validation_failed', 'cursor must be the nextCursor of the previous page.');
      where.push(`(occurred_at, id) < ($${params.push(at)}, $${params.push(id)})`);
    }
    const rows: {
      id: string;
      occurred_at: Date;
      actor_user_id: string | null;
      actor_ref: string;
      org_id: string | null;
      action: string;
      target_type: string | null;
      target_id: string | null;
      ip: string | null;
      user_agent: string | null;
      details: Record<string, unknown>;
    }[] = await this.dataSource.query(
      `SELECT id, occurred_at, actor_user_id, actor_ref, org_id, action, target_type, target_id, ip, user_agent, details
         FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY occurred_at DESC, id DESC LIMIT $${params.push(limit + 1)}`,
      params,
    );
    // Recorded after the read, so a page never contains the entry for reading itself.
    await this.audit.record({ actor: admin, action: 'admin.audit_searched', meta, details: { ...query, limit } as Record<string, unknown> });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((r) => ({
        id: r.id,
        occurredAt: r.occurred_at.toISOString(),
        actorUserId: r.actor_user_id,
        actorRef: r.actor_ref,
        orgId: r.org_id,
        action: r.action,
        targetType: r.target_type,
        targetId: r.target_id,
        ip: r.ip,
        userAgent: r.user_agent,
        details: r.details,
      })),
      nextCursor: rows.length > limit && last ? `${last.occurred_at.toISOString()}|${last.id}` : null,
    };
  }
}
