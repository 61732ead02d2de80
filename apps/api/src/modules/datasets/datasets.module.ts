import { Module } from '@nestjs/common';
import { ModerationModule } from '../moderation/moderation.module.js';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsScheduler } from './datasets.scheduler.js';
import { DatasetsService } from './datasets.service.js';

/** Exports DatasetsService for the jobs module (requireTrainable, presignedGetUrl, deleteAfterTraining). */
@Module({ imports: [ModerationModule], controllers: [DatasetsController], providers: [DatasetsService, DatasetsScheduler], exports: [DatasetsService] })
export class DatasetsModule {}
