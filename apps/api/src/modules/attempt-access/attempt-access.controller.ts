import { Controller, Header, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator.js';
import type { Attempt } from '../jobs/entities/attempt.entity.js';
import { PresignedDownloadDto, PresignedUploadDto, ResumeCheckpointDownloadDto } from './attempt-access.dto.js';
import { AttemptAccessService } from './attempt-access.service.js';
import { AttemptTokenGuard, type AttemptRequest } from './attempt-token.guard.js';

/**
 * Routes a training machine calls with its per-attempt token (401 `attempt_token_revoked` the
 * moment the attempt ends): short-lived presigned URLs, asked for right before each transfer.
 * POST because every call mints a new credential; never cached.
 */
@ApiTags('agent')
@ApiBearerAuth()
@Public()
@UseGuards(AttemptTokenGuard)
@Controller('v1/attempts')
export class AttemptAccessController {
  constructor(private readonly access: AttemptAccessService) {}

  @Post(':id/downloads/dataset')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "A presigned GET of the job's dataset (attempt token; only while the attempt is live)" })
  @ApiOkResponse({ type: PresignedDownloadDto })
  dataset(@Req() request: AttemptRequest) {
    return this.access.datasetDownload(request.attempt as Attempt);
  }

  @Post(':id/downloads/resume-checkpoint')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'A presigned GET of the checkpoint to resume from (404 no_resume_checkpoint when the job has none)' })
  @ApiOkResponse({ type: ResumeCheckpointDownloadDto })
  resumeCheckpoint(@Req() request: AttemptRequest) {
    return this.access.resumeCheckpointDownload(request.attempt as Attempt);
  }

  @Post(':id/uploads/:slot')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiParam({ name: 'slot', description: 'artifact, logs, or checkpoint-001 … checkpoint-008 (400 invalid_upload_slot otherwise)' })
  @ApiOperation({ summary: 'A presigned PUT for one upload slot, at the key the API chose for it' })
  @ApiOkResponse({ type: PresignedUploadDto })
  upload(@Req() request: AttemptRequest, @Param('slot') slot: string) {
    return this.access.upload(request.attempt as Attempt, slot);
  }
}
