import { IdempotencyKey } from '../../core/http/idempotency-key.decorator.js';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, Sse, type MessageEvent } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Observable } from 'rxjs';
import { badRequest } from '../../core/errors/app-error.js';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { RequireScopes } from '../auth/scopes.js';
import { SubmitJobDto } from './dto/submit-job.dto.js';
import { jobStream } from './job-stream.js';
import { JobsService, jobEventsSubject } from './jobs.service.js';

const jobId = new IdParam('Job');

function optionalInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,12}$/.test(value)) throw badRequest('validation_failed', `${name} must be a whole number.`, { fields: [{ field: name, message: 'must be a whole number' }] });
  return Number(value);
}

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly nats: NatsService,
  ) {}

  /** Submits a job; with the same Idempotency-Key and body, a retry returns the first job (200). */
  @Post()
  @RequireScopes('jobs:write')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retried submission return the job it created.' })
  async submit(
    @CurrentPrincipal() principal: Principal,
    @Body() body: SubmitJobDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @ClientMeta() meta: RequestMeta,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { job, created } = await this.jobs.submit(principal, body, idempotencyKey, meta);
    res.status(created ? 201 : 200);
    return job;
  }

  @Get()
  @RequireScopes('jobs:read')
  @ApiQuery({ name: 'status', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'before', required: false, description: 'Cursor: the last job id of the previous page.' })
  list(@CurrentPrincipal() principal: Principal, @Query('status') status?: string, @Query('limit') limit?: string, @Query('before') before?: string) {
    if (before !== undefined) new IdParam('Cursor').transform(before);
    return this.jobs.list(principal, { status, limit: optionalInt(limit, 'limit'), before });
  }

  @Get(':id')
  @RequireScopes('jobs:read')
  get(@CurrentPrincipal() principal: Principal, @Param('id', jobId) id: string) {
    return this.jobs.get(principal, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequireScopes('jobs:write')
  cancel(@CurrentPrincipal() principal: Principal, @Param('id', jobId) id: string, @ClientMeta() meta: RequestMeta) {
    return this.jobs.cancel(principal, id, meta);
  }

  @Get(':id/events')
  @RequireScopes('jobs:read')
  events(@CurrentPrincipal() principal: Principal, @Param('id', jobId) id: string) {
    return this.jobs.events(principal, id);
  }

  @Get(':id/logs')
  @RequireScopes('jobs:read')
  @ApiQuery({ name: 'afterSeq', required: false, description: 'Lines after this seq, oldest first (paging forward).' })
  @ApiQuery({ name: 'last', required: false, description: 'The most recent lines instead (at most 1000), oldest first; not with afterSeq.' })
  @ApiQuery({ name: 'limit', required: false })
  logs(@CurrentPrincipal() principal: Principal, @Param('id', jobId) id: string, @Query('afterSeq') afterSeq?: string, @Query('last') last?: string, @Query('limit') limit?: string) {
    return this.jobs.logs(principal, id, { afterSeq: optionalInt(afterSeq, 'afterSeq'), last: optionalInt(last, 'last'), limit: optionalInt(limit, 'limit') });
  }

  @Get(':id/metrics')
  @RequireScopes('jobs:read')
  metrics(@CurrentPrincipal() principal: Principal, @Param('id', jobId) id: string) {
    return this.jobs.metrics(principal, id);
  }

  @Get(':id/artifacts')
  @RequireScopes('jobs:read')
  artifacts(@CurrentPrincipal() principal: Principal, @Param('id', jobId) id: string) {
    return this.jobs.artifacts(principal, id);
  }

  /**
   * Server-sent events: `job` (the job now), then `event`, `metric` and `logs` as they happen, a
   * heartbeat comment every 15 s; it ends after the job's terminal status (see `jobStream`).
   * Another org's job is a 404 before the stream opens.
   */
  @Sse(':id/stream')
  @RequireScopes('jobs:read')
  async stream(@CurrentPrincipal() principal: Principal, @Param('id', jobId) id: string): Promise<Observable<MessageEvent>> {
    await this.jobs.requireJob(principal, id);
    return jobStream({
      subscribe: () => {
        const subscription = this.nats.connection.subscribe(jobEventsSubject(this.nats.prefix, id));
        return { messages: subscription, unsubscribe: () => subscription.unsubscribe() };
      },
      snapshot: () => this.jobs.get(principal, id),
    });
  }
}
