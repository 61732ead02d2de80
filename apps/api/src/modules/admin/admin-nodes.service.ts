import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { badRequest, conflict, notFound } from '../../core/errors/app-error.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { Node } from '../nodes/entities/node.entity.js';
import { ReliabilityService } from '../nodes/reliability.service.js';
import { emailOrgAdmins } from '../disputes/org-contacts.js';
import { EmailOutboxService } from '../notifications/email-outbox.service.js';

interface NodeRow {
  id: string;
  org_id: string;
  hostname: string;
  gpu_model_id: string | null;
  gpu_name: string;
  gpu_count: number;
  vram_mb: number | null;
  price_micros_per_gpu_hour: string;
  region: string | null;
  simulated: boolean;
  listed: boolean;
  draining: boolean;
  state: string;
  last_heartbeat_at: Date | null;
  quarantined_at: Date | null;
  quarantine_reason: string | null;
  reliability_penalty: number;
  created_at: Date;
  deleted_at: Date | null;
}

/** Every community node for admins: list, quarantine (no new jobs), release. */
@Injectable()
export class AdminNodesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly emails: EmailOutboxService,
    private readonly reliability: ReliabilityService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(admin: Principal, query: { quarantined?: boolean; orgId?: string; state?: string; limit?: number; before?: string }, meta: RequestMeta) {
    for (const [name, value] of [['orgId', query.orgId], ['before', query.before]] as const) {
      if (value && !/^[0-9a-f-]{36}$/i.test(value)) throw badRequest('validation_failed', `${name} must be an id.`);
    }
    const limit = Math.min(200, Math.max(1, Math.floor(query.limit ?? 50) || 50));
    const where = ['deleted_at IS NULL'];
    const params: unknown[] = [];
    if (query.quarantined !== undefined) where.push(query.quarantined ? 'quarantined_at IS NOT NULL' : 'quarantined_at IS NULL');
    if (query.orgId) where.push(`org_id = $${params.push(query.orgId)}`);
    if (query.state) where.push(`state = $${params.push(query.state)}`);
    if (query.before) where.push(`id < $${params.push(query.before)}`);
    const rows: NodeRow[] = await this.dataSource.query(
      `SELECT id, org_id, hostname, gpu_model_id, gpu_name, gpu_count, vram_mb, price_micros_per_gpu_hour::text, region, simulated, listed, draining, state,
              last_heartbeat_at, quarantined_at, quarantine_reason, reliability_penalty, created_at, deleted_at
         FROM nodes WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.push(limit + 1)}`,
      params,
    );
    await this.audit.record({ actor: admin, action: 'admin.nodes_listed', meta, details: { quarantined: query.quarantined ?? null, orgId: query.orgId ?? null } });
    const reliability = await this.reliability.forNodes();
    const items = rows.slice(0, limit);
    return { items: items.map((n) => view(n, reliability.get(n.id)?.reliability ?? null)), nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  async quarantine(admin: Principal, nodeId: string, reason: string, meta: RequestMeta) {
    const now = this.clock.now();
    await this.dataSource.transaction(async (tx) => {
      const node = await tx.findOne(Node, { where: { id: nodeId }, lock: { mode: 'pessimistic_write' } });
      if (!node || node.deletedAt) throw notFound('Node');
      if (node.quarantinedAt) throw conflict('node_already_quarantined', 'This node is quarantined already.');
      await tx.update(Node, { id: nodeId }, { quarantinedAt: now, quarantineReason: reason });
      await this.audit.record({ actor: admin, orgId: node.orgId, action: 'node.quarantined', target: { type: 'node', id: nodeId }, meta, details: { reason } }, tx);
      await this.notify(tx, node.orgId, 'Your node was quarantined', `Node ${node.hostname} (${nodeId}) was quarantined by an administrator: it gets no new jobs until it is released.\n\nReason: ${reason}`);
    });
    return this.one(nodeId);
  }

  async release(admin: Principal, nodeId: string, note: string | undefined, meta: RequestMeta) {
    await this.dataSource.transaction(async (tx) => {
      const node = await tx.findOne(Node, { where: { id: nodeId }, lock: { mode: 'pessimistic_write' } });
      if (!node || node.deletedAt) throw notFound('Node');
      if (!node.quarantinedAt) throw conflict('node_not_quarantined', 'This node is not quarantined.');
      await tx.update(Node, { id: nodeId }, { quarantinedAt: null, quarantineReason: null });
      await this.audit.record({ actor: admin, orgId: node.orgId, action: 'node.released', target: { type: 'node', id: nodeId }, meta, details: { note: note ?? null } }, tx);
      await this.notify(tx, node.orgId, 'Your node was released from quarantine', `Node ${node.hostname} (${nodeId}) takes jobs again.${note ? `\n\n${note}` : ''}`);
    });
    return this.one(nodeId);
  }

  private async one(nodeId: string) {
    const [row]: NodeRow[] = await this.dataSource.query(
      `SELECT id, org_id, hostname, gpu_model_id, gpu_name, gpu_count, vram_mb, price_micros_per_gpu_hour::text, region, simulated, listed, draining, state,
              last_heartbeat_at, quarantined_at, quarantine_reason, reliability_penalty, created_at, deleted_at FROM nodes WHERE id = $1`,
      [nodeId],
    );
    if (!row) throw notFound('Node');
    return view(row, (await this.reliability.forNodes()).get(nodeId)?.reliability ?? null);
  }

  private notify(tx: EntityManager, orgId: string, subject: string, body: string): Promise<void> {
    return emailOrgAdmins(tx, this.emails, orgId, subject, body);
  }
}

function view(n: NodeRow, reliability: number | null) {
  return {
    id: n.id,
    orgId: n.org_id,
    hostname: n.hostname,
    gpuModelId: n.gpu_model_id,
    gpuName: n.gpu_name,
    gpuCount: n.gpu_count,
    vramMb: n.vram_mb,
    priceMicrosPerGpuHour: n.price_micros_per_gpu_hour,
    region: n.region,
    simulated: n.simulated,
    listed: n.listed,
    draining: n.draining,
    state: n.state,
    lastHeartbeatAt: n.last_heartbeat_at?.toISOString() ?? null,
    quarantinedAt: n.quarantined_at?.toISOString() ?? null,
    quarantineReason: n.quarantine_reason,
    reliabilityPenalty: Number(n.reliability_penalty),
    reliability,
    createdAt: n.created_at.toISOString(),
  };
}
