import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { ModerationResult, type ModerationOutcome, type ModerationReason, type ModerationSubjectType } from './entities/moderation-result.entity.js';
import { checkDataset, checkJob, moderationPolicyFromConfig, type DatasetModerationInput, type ModerationPolicy } from './moderation.rules.js';

/** A moderation decision as callers see it: the effective outcome (an admin review overrides the rules). */
export interface ModerationDecision {
  id: string;
  subjectType: ModerationSubjectType;
  subjectId: string;
  outcome: ModerationOutcome;
  reasons: ModerationReason[];
  createdAt: Date;
  reviewed: boolean;
}

export interface JobSubmissionModeration {
  /** The job being submitted (the subject of the stored result). */
  jobId: string;
  orgId: string;
  baseModelId: string;
  datasetId: string;
  jobName?: string | null;
  /** Recipe, hyperparameters, validation prompts: every string in it is scanned for blocked terms. */
  configuration?: unknown;
}

export interface OrgRejectionCount {
  orgId: string;
  rejections: number;
  total: number;
}

function toDecision(row: ModerationResult): ModerationDecision {
  return {
    id: row.id,
    subjectType: row.subjectType,
    subjectId: row.subjectId,
    outcome: row.reviewOutcome ?? row.outcome,
    reasons: row.reasons,
    createdAt: row.createdAt,
    reviewed: row.reviewOutcome !== null,
  };
}

/**
 * Rule-based content moderation of datasets (on upload completion) and job submissions: blocked
 * terms in names, file names and configuration, disallowed base models, declared licences. Every
 * decision is stored with its reasons (`moderation_results`), for the user and the admin review queue.
 */
@Injectable()
export class ModerationService {
  readonly policy: ModerationPolicy;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {
    this.policy = moderationPolicyFromConfig(config);
  }

  /** Checks a dataset's name, archive file names and declared licence; stores and returns the decision. */
  async moderateDataset(input: DatasetModerationInput & { datasetId: string; orgId: string }, manager: EntityManager = this.dataSource.manager): Promise<ModerationDecision> {
    const reasons = checkDataset(this.policy, input);
    return this.record(manager, 'dataset', input.datasetId, input.orgId, reasons);
  }

  /**
   * For the jobs module at submission: base model allowed, no blocked terms in the job's name or
   * configuration, and the dataset's own moderation passed (a dataset never moderated fails).
   * Ownership and readiness of the dataset are `DatasetsService.assertTrainable`'s business.
   */
  async moderateJobSubmission(input: JobSubmissionModeration, manager: EntityManager = this.dataSource.manager): Promise<ModerationDecision> {
    const reasons = checkJob(this.policy, input);
    const dataset = await this.latestFor('dataset', input.datasetId, manager);
    if (!dataset) {
      reasons.push({ code: 'dataset_not_moderated', message: 'The dataset has not been checked yet: complete its upload first.' });
    } else if (dataset.outcome === 'rejected') {
      reasons.push({ code: 'dataset_rejected', message: `The dataset failed moderation: ${dataset.reasons.map((r) => r.message).join(' ')}` });
    }
    return this.record(manager, 'job', input.jobId, input.orgId, reasons);
  }

  /** The latest decision about a subject, or null when it was never moderated. */
  async latestFor(subjectType: ModerationSubjectType, subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<ModerationDecision | null> {
    const row = await manager.findOne(ModerationResult, { where: { subjectType, subjectId }, order: { createdAt: 'DESC', id: 'DESC' } });
    return row ? toDecision(row) : null;
  }

  /** Latest decisions for many subjects at once (lists). */
  async latestForMany(subjectType: ModerationSubjectType, subjectIds: readonly string[]): Promise<Map<string, ModerationDecision>> {
    if (subjectIds.length === 0) return new Map();
    const rows: ModerationResult[] = await this.dataSource.manager
      .createQueryBuilder(ModerationResult, 'm')
      .distinctOn(['m.subject_id'])
      .where('m.subject_type = :subjectType AND m.subject_id IN (:...subjectIds)', { subjectType, subjectIds })
      .orderBy('m.subject_id')
      .addOrderBy('m.created_at', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .getMany();
    return new Map(rows.map((row) => [row.subjectId, toDecision(row)]));
  }

  /**
   * Per organization: how many decisions were rejections (after review) and how many there were,
   * for orgs with at least `minRejections` since `since`; most rejections first. The admin side
   * flags accounts past a threshold with this.
   */
  async rejectionCountsByOrg(options: { since?: Date; minRejections?: number; limit?: number } = {}): Promise<OrgRejectionCount[]> {
    const rows: { org_id: string; rejections: number; total: number }[] = await this.dataSource.query(
      `SELECT org_id,
              count(*) FILTER (WHERE coalesce(review_outcome, outcome) = 'rejected')::int AS rejections,
              count(*)::int AS total
         FROM moderation_results
        WHERE created_at >= $1
        GROUP BY org_id
       HAVING count(*) FILTER (WHERE coalesce(review_outcome, outcome) = 'rejected') >= $2
        ORDER BY rejections DESC, org_id
        LIMIT $3`,
      [options.since ?? new Date(0), options.minRejections ?? 1, options.limit ?? 100],
    );
    return rows.map((row) => ({ orgId: row.org_id, rejections: row.rejections, total: row.total }));
  }

  private async record(manager: EntityManager, subjectType: ModerationSubjectType, subjectId: string, orgId: string, reasons: ModerationReason[]): Promise<ModerationDecision> {
    const row: ModerationResult = {
      id: this.newId(),
      subjectType,
      subjectId,
      orgId,
      outcome: reasons.length === 0 ? 'passed' : 'rejected',
      reasons,
      createdAt: this.clock.now(),
      reviewOutcome: null,
      reviewedBy: null,
      reviewedAt: null,
      reviewNote: null,
    };
    await manager.insert(ModerationResult, row as never);
    return toDecision(row);
  }
}
