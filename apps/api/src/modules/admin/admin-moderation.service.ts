import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../../core/clock/clock.js';
import { badRequest, conflict, notFound } from '../../core/errors/app-error.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { ModerationResult, type ModerationReason } from '../moderation/entities/moderation-result.entity.js';

interface QueueRow {
  id: string;
  subject_type: 'dataset' | 'job';
  subject_id: string;
  org_id: string;
  outcome: string;
  reasons: ModerationReason[];
  created_at: Date;
  review_outcome: string | null;
  reviewed_by: string | null;
  reviewed_at: Date | null;
  review_note: string | null;
  subject_name: string | null;
}

/** The queue of rejected datasets and jobs, with the rules that fired; an admin upholds or overrides. */
@Injectable()
export class AdminModerationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async queue(admin: Principal, query: { status?: string; subjectType?: string; orgId?: string; limit?: number; before?: string }, meta: RequestMeta) {
    const status = query.status ?? 'pending';
    if (!['pending', 'reviewed', 'all'].includes(status)) throw badRequest('validation_failed', 'status must be pending, reviewed or all.');
    if (query.subjectType && !['dataset', 'job'].includes(query.subjectType)) throw badRequest('validation_failed', 'subjectType must be dataset or job.');
    for (const [name, value] of [['orgId', query.orgId], ['before', query.before]] as const) {
      if (value && !/^[0-9a-f-]{36}$/i.test(value)) throw badRequest('validation_failed', `${name} must be an id.`);
    }
    const limit = Math.min(200, Math.max(1, Math.floor(query.limit ?? 50) || 50));
    const where = ["m.outcome = 'rejected'"];
    const params: unknown[] = [];
    if (status === 'pending') where.push('m.review_outcome IS NULL');
    if (status === 'reviewed') where.push('m.review_outcome IS NOT NULL');
    if (query.subjectType) where.push(`m.subject_type = $${params.push(query.subjectType)}`);
    if (query.orgId) where.push(`m.org_id = $${params.push(query.orgId)}`);
    if (query.before) where.push(`m.id < $${params.push(query.before)}`);
    const rows: QueueRow[] = await this.dataSource.query(
      `SELECT m.id, m.subject_type, m.subject_id, m.org_id, m.outcome, m.reasons, m.created_at, m.review_outcome, m.reviewed_by, m.reviewed_at, m.review_note,
              COALESCE(d.name, j.name) AS subject_name
         FROM moderation_results m
         LEFT JOIN datasets d ON m.subject_type = 'dataset' AND d.id = m.subject_id
         LEFT JOIN jobs j ON m.subject_type = 'job' AND j.id = m.subject_id
        WHERE ${where.join(' AND ')}
        ORDER BY m.id DESC LIMIT $${params.push(limit + 1)}`,
      params,
    );
    await this.audit.record({ actor: admin, action: 'admin.moderation_listed', meta, details: { status, subjectType: query.subjectType ?? null } });
    const items = rows.slice(0, limit);
    return { items: items.map(view), nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  /** Upholds the rejection or overrides it (the subject then counts as passed everywhere). Once per result. */
  async review(admin: Principal, id: string, decision: 'uphold' | 'override', note: string, meta: RequestMeta) {
    const now = this.clock.now();
    await this.dataSource.transaction(async (tx) => {
      const row = await tx.findOne(ModerationResult, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!row || row.outcome !== 'rejected') throw notFound('Moderation result');
      if (row.reviewOutcome !== null) throw conflict('already_reviewed', 'This decision has been reviewed already.');
      const reviewOutcome = decision === 'uphold' ? 'rejected' : 'passed';
      await tx.update(ModerationResult, { id }, { reviewOutcome, reviewedBy: admin.userId, reviewedAt: now, reviewNote: note });
      await this.audit.record(
        { actor: admin, orgId: row.orgId, action: decision === 'uphold' ? 'moderation.upheld' : 'moderation.overridden', target: { type: row.subjectType, id: row.subjectId }, meta, details: { moderationResultId: id, note } },
        tx,
      );
    });
    const [row]: QueueRow[] = await this.dataSource.query(
      `SELECT m.*, COALESCE(d.name, j.name) AS subject_name FROM moderation_results m
         LEFT JOIN datasets d ON m.subject_type = 'dataset' AND d.id = m.subject_id
         LEFT JOIN jobs j ON m.subject_type = 'job' AND j.id = m.subject_id WHERE m.id = $1`,
      [id],
    );
    return view(row!);
  }
}

function view(r: QueueRow) {
  return {
    id: r.id,
    subjectType: r.subject_type,
    subjectId: r.subject_id,
    subjectName: r.subject_name,
    orgId: r.org_id,
    outcome: r.outcome,
    rules: r.reasons,
    createdAt: r.created_at.toISOString(),
    review: r.review_outcome ? { outcome: r.review_outcome, decision: r.review_outcome === 'rejected' ? 'uphold' : 'override', reviewedBy: r.reviewed_by, reviewedAt: r.reviewed_at?.toISOString() ?? null, note: r.review_note } : null,
  };
}
