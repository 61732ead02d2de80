import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator.js';
import type { Attempt } from '../jobs/entities/attempt.entity.js';
import { UploadUrlsDto, UploadUrlsResponseDto } from './attempt-access.dto.js';
import { AttemptAccessService } from './attempt-access.service.js';
import { AttemptTokenGuard, type AttemptRequest } from './attempt-token.guard.js';

/** Routes a training machine calls with its per-attempt token; they stop working when the attempt ends. */
@ApiTags('agent')
@ApiBearerAuth()
@Controller('v1/attempts')
export class AttemptAccessController {
  constructor(private readonly access: AttemptAccessService) {}

  @Public()
  @UseGuards(AttemptTokenGuard)
  @Post(':id/upload-urls')
  @HttpCode(200)
  @ApiOperation({ summary: 'Fresh presigned PUT URLs for checkpoints or logs (attempt token; only while the attempt is live)' })
  @ApiOkResponse({ type: UploadUrlsResponseDto })
  uploadUrls(@Req() request: AttemptRequest, @Body() body: UploadUrlsDto) {
    return this.access.uploadUrls(request.attempt as Attempt, body.kind, body.count);
  }
}
