import { IdempotencyKey } from '../../core/http/idempotency-key.decorator.js';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { RequireScopes } from '../auth/scopes.js';
import { DatasetsService } from './datasets.service.js';
import { CompleteDatasetDto, CreateDatasetDto, ListDatasetsQueryDto } from './dto/datasets.dto.js';

const datasetId = new IdParam('Dataset');

@ApiTags('datasets')
@ApiBearerAuth()
@Controller('v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  /**
   * Registers a dataset and returns where to upload it: one presigned PUT, or presigned parts above
   * the multipart threshold. With the same Idempotency-Key and body, a retry returns that dataset
   * with fresh upload URLs (200).
   */
  @Post()
  @RequireScopes('datasets:write')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retried request return the dataset it created.' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateDatasetDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @ClientMeta() meta: RequestMeta,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { created, ...result } = await this.datasets.create(principal, body, meta, idempotencyKey);
    res.status(created ? 201 : 200);
    return result;
  }

  /** Verifies the uploaded bytes (size, SHA-256), counts samples, runs moderation; the dataset becomes ready. */
  @Post(':id/complete')
  @HttpCode(200)
  @RequireScopes('datasets:write')
  complete(@CurrentPrincipal() principal: Principal, @Param('id', datasetId) id: string, @Body() body: CompleteDatasetDto, @ClientMeta() meta: RequestMeta) {
    return this.datasets.complete(principal, id, body, meta);
  }

  @Get()
  @RequireScopes('datasets:read')
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListDatasetsQueryDto) {
    return this.datasets.list(principal, query);
  }

  @Get(':id')
  @RequireScopes('datasets:read')
  get(@CurrentPrincipal() principal: Principal, @Param('id', datasetId) id: string) {
    return this.datasets.get(principal, id);
  }

  /** A short-lived presigned GET of the dataset's file. */
  @Get(':id/download')
  @RequireScopes('datasets:read')
  download(@CurrentPrincipal() principal: Principal, @Param('id', datasetId) id: string) {
    return this.datasets.download(principal, id);
  }

  /** Deletes the stored file and marks the dataset deleted; repeating it is harmless. */
  @Delete(':id')
  @RequireScopes('datasets:write')
  remove(@CurrentPrincipal() principal: Principal, @Param('id', datasetId) id: string, @ClientMeta() meta: RequestMeta) {
    return this.datasets.delete(principal, id, meta);
  }
}
