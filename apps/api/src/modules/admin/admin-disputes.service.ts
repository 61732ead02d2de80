import { usdToMicros } from '../../core/money/usd.js';
import { Injectable } from '@nestjs/common';
import { badRequest } from '../../core/errors/app-error.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { DisputesService, type DisputeListFilter } from '../disputes/disputes.service.js';
import type { ResolveDisputeDto } from './dto/admin.dto.js';

/** The admin's dispute queue: every read audited, the decision made by `DisputesService.resolve`. */
@Injectable()
export class AdminDisputesService {
  constructor(
    private readonly disputes: DisputesService,
    private readonly audit: AuditService,
  ) {}

  async list(admin: Principal, filter: DisputeListFilter, meta: RequestMeta) {
    const page = await this.disputes.adminList(filter);
    await this.audit.record({ actor: admin, action: 'admin.disputes_listed', meta, details: { status: filter.status ?? null, reason: filter.reason ?? null } });
    return page;
  }

  async get(admin: Principal, id: string, meta: RequestMeta) {
    const dispute = await this.disputes.adminGet(id);
    await this.audit.record({ actor: admin, orgId: dispute.customerOrgId ?? null, action: 'admin.dispute_viewed', target: { type: 'dispute', id }, meta });
    return dispute;
  }

  resolve(admin: Principal, id: string, body: ResolveDisputeDto, meta: RequestMeta) {
    if (body.refundMicros !== undefined && body.refundUsd !== undefined) throw badRequest('validation_failed', 'Give the refund as refundMicros or refundUsd, not both.');
    const refundMicros = body.refundMicros !== undefined ? BigInt(body.refundMicros) : body.refundUsd !== undefined ? usdToMicros(body.refundUsd) : undefined;
    return this.disputes.resolve(admin, id, { resolution: body.resolution, refundMicros, note: body.note, reliabilityPenalty: body.reliabilityPenalty, quarantineNode: body.quarantineNode }, meta);
  }
}
