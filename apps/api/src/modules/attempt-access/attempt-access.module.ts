import { Module } from '@nestjs/common';
import { AttemptAccessController } from './attempt-access.controller.js';
import { AttemptAccessService } from './attempt-access.service.js';
import { AttemptTokenGuard } from './attempt-token.guard.js';

/** What a machine may do with its per-attempt token (`att_…`) while the attempt is live. */
@Module({ controllers: [AttemptAccessController], providers: [AttemptAccessService, AttemptTokenGuard] })
export class AttemptAccessModule {}
