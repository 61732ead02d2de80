import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsObject, IsOptional } from 'class-validator';
import { notFound } from '../../core/errors/app-error.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { AdminOnly } from '../auth/scopes.js';
import { CLOUD_PROVIDER_KINDS, ProviderAccountsService, type CloudProviderKind } from './provider-accounts.service.js';

export class SetProviderCredentialsDto {
  @ApiProperty({
    description: 'GCP: a service-account key file ({client_email, private_key, …}) or {type: "access_token", accessToken}; RunPod: {apiKey}. Stored encrypted, never returned.',
    type: 'object',
    additionalProperties: true,
  })
  @IsObject()
  credentials!: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Adapter settings without secrets. GCP: {projectId, zones, …}; RunPod: {podGpuTypes, restBaseUrl, …}.',
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;
}

function kindOf(kind: string): CloudProviderKind {
  if (!(CLOUD_PROVIDER_KINDS as readonly string[]).includes(kind)) throw notFound('Provider');
  return kind as CloudProviderKind;
}

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/providers')
export class ProviderAccountsController {
  constructor(private readonly accounts: ProviderAccountsService) {}

  @Get()
  @AdminOnly()
  list() {
    return this.accounts.list();
  }

  @Put(':kind')
  @AdminOnly()
  set(@CurrentPrincipal() principal: Principal, @Param('kind') kind: string, @Body() body: SetProviderCredentialsDto, @ClientMeta() meta: RequestMeta) {
    return this.accounts.set(principal, kindOf(kind), body.credentials, body.config ?? {}, meta);
  }

  @Delete(':kind')
  @AdminOnly()
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('kind') kind: string, @ClientMeta() meta: RequestMeta) {
    await this.accounts.remove(principal, kindOf(kind), meta);
  }
}
