import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { badRequest } from '../../core/errors/app-error.js';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { AdminOnly } from '../auth/scopes.js';
import { AdminAuditService } from './admin-audit.service.js';
import { AdminDisputesService } from './admin-disputes.service.js';
import { AdminModerationService } from './admin-moderation.service.js';
import { AdminNodesService } from './admin-nodes.service.js';
import { AdminUsersService } from './admin-users.service.js';
import { NoteDto, QuarantineNodeDto, ResolveDisputeDto, ReviewModerationDto, SuspendUserDto } from './dto/admin.dto.js';

const num = (value: string | undefined) => (value === undefined ? undefined : Number(value));
function flag(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw badRequest('validation_failed', `${name} must be true or false.`);
}

/** Platform administration. Every route needs a platform admin signed in with 2FA; every call is audited. */
@ApiTags('admin')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin')
export class AdminController {
  constructor(
    private readonly disputes: AdminDisputesService,
    private readonly moderation: AdminModerationService,
    private readonly users: AdminUsersService,
    private readonly nodes: AdminNodesService,
    private readonly auditLog: AdminAuditService,
  ) {}

  // Disputes

  @Get('disputes')
  @ApiQuery({ name: 'status', required: false, enum: ['open', 'answered', 'resolved', 'unresolved'] })
  @ApiQuery({ name: 'reason', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'before', required: false })
  listDisputes(@CurrentPrincipal() admin: Principal, @ClientMeta() meta: RequestMeta, @Query('status') status?: string, @Query('reason') reason?: string, @Query('limit') limit?: string, @Query('before') before?: string) {
    return this.disputes.list(admin, { status, reason, limit: num(limit), before }, meta);
  }

  @Get('disputes/:id')
  getDispute(@CurrentPrincipal() admin: Principal, @Param('id', new IdParam('Dispute')) id: string, @ClientMeta() meta: RequestMeta) {
    return this.disputes.get(admin, id, meta);
  }

  @Post('disputes/:id/resolve')
  @HttpCode(200)
  resolveDispute(@CurrentPrincipal() admin: Principal, @Param('id', new IdParam('Dispute')) id: string, @Body() body: ResolveDisputeDto, @ClientMeta() meta: RequestMeta) {
    return this.disputes.resolve(admin, id, body, meta);
  }

  // Moderation

  @Get('moderation')
  @ApiQuery({ name: 'status', required: false, enum: ['pending', 'reviewed', 'all'] })
  @ApiQuery({ name: 'subjectType', required: false, enum: ['dataset', 'job'] })
  @ApiQuery({ name: 'orgId', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'before', required: false })
  moderationQueue(
    @CurrentPrincipal() admin: Principal,
    @ClientMeta() meta: RequestMeta,
    @Query('status') status?: string,
    @Query('subjectType') subjectType?: string,
    @Query('orgId') orgId?: string,
    @Query('limit') limit?: string,
    @Query('before') before?: string,
  ) {
    return this.moderation.queue(admin, { status, subjectType, orgId, limit: num(limit), before }, meta);
  }

  @Post('moderation/:id/review')
  @HttpCode(200)
  reviewModeration(@CurrentPrincipal() admin: Principal, @Param('id', new IdParam('Moderation result')) id: string, @Body() body: ReviewModerationDto, @ClientMeta() meta: RequestMeta) {
    return this.moderation.review(admin, id, body.decision, body.note, meta);
  }

  // Users

  @Get('users')
  @ApiQuery({ name: 'q', required: false, description: 'Part of an email address or name.' })
  @ApiQuery({ name: 'flagged', required: false, description: 'true: only accounts flagged by their moderation rejection rate.' })
  @ApiQuery({ name: 'status', required: false, enum: ['active', 'suspended', 'deleted'] })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'before', required: false })
  listUsers(
    @CurrentPrincipal() admin: Principal,
    @ClientMeta() meta: RequestMeta,
    @Query('q') q?: string,
    @Query('flagged') flagged?: string,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
    @Query('before') before?: string,
  ) {
    return this.users.list(admin, { q, flagged: flag('flagged', flagged), status, limit: num(limit), before }, meta);
  }

  @Get('users/:id')
  getUser(@CurrentPrincipal() admin: Principal, @Param('id', new IdParam('User')) id: string, @ClientMeta() meta: RequestMeta) {
    return this.users.get(admin, id, meta);
  }

  @Post('users/:id/suspend')
  @HttpCode(200)
  suspend(@CurrentPrincipal() admin: Principal, @Param('id', new IdParam('User')) id: string, @Body() body: SuspendUserDto, @ClientMeta() meta: RequestMeta) {
    return this.users.suspend(admin, id, body.reason, meta);
  }

  @Post('users/:id/reinstate')
  @HttpCode(200)
  reinstate(@CurrentPrincipal() admin: Principal, @Param('id', new IdParam('User')) id: string, @Body() body: NoteDto, @ClientMeta() meta: RequestMeta) {
    return this.users.reinstate(admin, id, body.note, meta);
  }

  // Nodes

  @Get('nodes')
  @ApiQuery({ name: 'quarantined', required: false })
  @ApiQuery({ name: 'orgId', required: false })
  @ApiQuery({ name: 'state', required: false, enum: ['online', 'suspect', 'offline'] })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'before', required: false })
  listNodes(
    @CurrentPrincipal() admin: Principal,
    @ClientMeta() meta: RequestMeta,
    @Query('quarantined') quarantined?: string,
    @Query('orgId') orgId?: string,
    @Query('state') state?: string,
    @Query('limit') limit?: string,
    @Query('before') before?: string,
  ) {
    return this.nodes.list(admin, { quarantined: flag('quarantined', quarantined), orgId, state, limit: num(limit), before }, meta);
  }

  @Post('nodes/:id/quarantine')
  @HttpCode(200)
  quarantine(@CurrentPrincipal() admin: Principal, @Param('id', new IdParam('Node')) id: string, @Body() body: QuarantineNodeDto, @ClientMeta() meta: RequestMeta) {
    return this.nodes.quarantine(admin, id, body.reason, meta);
  }

  @Post('nodes/:id/release')
  @HttpCode(200)
  release(@CurrentPrincipal() admin: Principal, @Param('id', new IdParam('Node')) id: string, @Body() body: NoteDto, @ClientMeta() meta: RequestMeta) {
    return this.nodes.release(admin, id, body.note, meta);
  }

  // Audit log

  @Get('audit')
  @ApiQuery({ name: 'actor', required: false, description: 'A user id or an actor reference (user:…, api_key:…, system).' })
  @ApiQuery({ name: 'action', required: false, description: 'An action, or a prefix ending in * (dispute.*).' })
  @ApiQuery({ name: 'targetType', required: false })
  @ApiQuery({ name: 'targetId', required: false })
  @ApiQuery({ name: 'orgId', required: false })
  @ApiQuery({ name: 'from', required: false, description: 'ISO-8601, inclusive.' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO-8601, exclusive.' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  searchAudit(
    @CurrentPrincipal() admin: Principal,
    @ClientMeta() meta: RequestMeta,
    @Query('actor') actor?: string,
    @Query('action') action?: string,
    @Query('targetType') targetType?: string,
    @Query('targetId') targetId?: string,
    @Query('orgId') orgId?: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    return this.auditLog.search(admin, { actor, action, targetType, targetId, orgId, from, to, limit: num(limit), cursor }, meta);
  }
}
