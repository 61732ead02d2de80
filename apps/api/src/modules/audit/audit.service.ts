import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { AuditEntry } from './entities/audit-entry.entity.js';

export type AuditActor = Principal | { userId: string } | 'system' | 'anonymous';

export interface AuditRecord {
  actor: AuditActor;
  action: string;
  orgId?: string | null;
  target?: { type: string; id: string };
  meta?: RequestMeta;
  details?: Record<string, unknown>;
}

/** Writes the append-only audit log; pass the transaction's manager to record atomically with the change. */
@Injectable()
export class AuditService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  async record(entry: AuditRecord, manager: EntityManager = this.dataSource.manager): Promise<void> {
    const { actorUserId, actorRef } = describeActor(entry.actor);
    const row: AuditEntry = {
      id: this.newId(),
      occurredAt: this.clock.now(),
      actorUserId,
      actorRef,
      orgId: entry.orgId ?? (typeof entry.actor === 'object' && 'orgId' in entry.actor ? entry.actor.orgId : null),
      action: entry.action,
      targetType: entry.target?.type ?? null,
      targetId: entry.target?.id ?? null,
      ip: entry.meta?.ip ?? null,
      userAgent: entry.meta?.userAgent ?? null,
      details: entry.details ?? {},
    };
    await manager.insert(AuditEntry, row as never);
  }
}

function describeActor(actor: AuditActor): { actorUserId: string | null; actorRef: string } {
  if (actor === 'system' || actor === 'anonymous') return { actorUserId: null, actorRef: actor };
  if ('kind' in actor && actor.kind === 'api_key') return { actorUserId: actor.userId, actorRef: `api_key:${actor.apiKeyId}` };
  return { actorUserId: actor.userId, actorRef: `user:${actor.userId}` };
}
