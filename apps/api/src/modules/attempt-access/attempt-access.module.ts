import { Module } from '@nestjs/common';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { AttemptAccessController } from './attempt-access.controller.js';
import { AttemptAccessRepository } from './attempt-access.repository.js';
import { AttemptAccessService } from './attempt-access.service.js';
import { AttemptTokenGuard } from './attempt-token.guard.js';

/** What a machine may do with its per-attempt token (`att_…`) while the attempt is live: fetch short-lived storage URLs. */
@Module({ imports: [DatasetsModule], controllers: [AttemptAccessController], providers: [AttemptAccessService, AttemptAccessRepository, AttemptTokenGuard] })
export class AttemptAccessModule {}
