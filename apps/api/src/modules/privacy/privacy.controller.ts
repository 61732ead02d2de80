import { Body, Controller, Delete, Get, HttpCode, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { IdParam } from '../../core/http/id-param.pipe.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from '../auth/principal.js';
import { RateLimitGuard } from '../auth/rate-limit.guard.js';
import { SessionOnly } from '../auth/scopes.js';
import { AccountDeletionService } from './account-deletion.service.js';
import { DataExportService } from './data-export.service.js';
import { AccountDeletionResultDto, DataExportDto, DeleteAccountDto } from './privacy.dto.js';

/** The user's rights over their data: export it, delete the account. Signed-in sessions only. */
@ApiTags('me')
@ApiBearerAuth()
@Controller('v1/me')
export class PrivacyController {
  constructor(
    private readonly exports: DataExportService,
    private readonly deletion: AccountDeletionService,
  ) {}

  @Get('export')
  @SessionOnly()
  @ApiOperation({ summary: 'Start a machine-readable export of all your data, or see the current one (202 while it is being built)' })
  @ApiQuery({ name: 'fresh', required: false, description: '`true` starts a new export even when a ready one exists.' })
  @ApiOkResponse({ type: DataExportDto })
  async export(@CurrentPrincipal() principal: Principal, @ClientMeta() meta: RequestMeta, @Res({ passthrough: true }) res: Response, @Query('fresh') fresh?: string) {
    const { view } = await this.exports.startOrCurrent(principal, fresh === 'true' || fresh === '1', meta);
    res.status(view.status === 'ready' || view.status === 'failed' ? 200 : 202);
    return view;
  }

  @Get('exports/:id')
  @SessionOnly()
  @ApiOperation({ summary: 'Progress of an export; once ready, a presigned download URL' })
  @ApiOkResponse({ type: DataExportDto })
  getExport(@CurrentPrincipal() principal: Principal, @Param('id', new IdParam('Export')) id: string) {
    return this.exports.get(principal, id);
  }

  @Delete()
  @SessionOnly()
  // The password check is rate-limited like a login (LOGIN_RATE_LIMIT_PER_MINUTE per client), so a stolen session cannot guess it.
  @UseGuards(RateLimitGuard)
  @SkipThrottle({ keys: true })
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete your account (needs your password, and a 2FA code when 2FA is on)' })
  @ApiOkResponse({ type: AccountDeletionResultDto })
  deleteAccount(@CurrentPrincipal() principal: Principal, @Body() body: DeleteAccountDto, @ClientMeta() meta: RequestMeta) {
    return this.deletion.deleteAccount(principal, body, meta);
  }
}
