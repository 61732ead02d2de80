import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../core/logging/logger.js';
import { Quote } from './entities/quote.entity.js';

/**
 * The shown part of an estimate, shared by every quote of it. `persisted` turns true once a quote
 * INSERT that carried it has committed; until then each flush that needs it writes it again (a
 * no-op when it is there).
 */
export interface QuoteContentDraft {
  id: string;
  /** Already-serialized JSON arrays (the hot path serializes them once per estimate). */
  rowsJson: string;
  excludedJson: string;
  summary: string;
  createdAt: Date;
  persisted: boolean;
}

export interface NewQuote {
  id: string;
  orgId: string;
  createdBy: string;
  /** Already-serialized JSON. */
  requestJson: string;
  content: QuoteContentDraft;
  createdAt: Date;
  expiresAt: Date;
}

/** Rows per INSERT (each quote takes 7 parameters; PostgreSQL allows 65,535). */
const MAX_BATCH = 500;
/**
 * A quote id minted this recently and not found yet may still be on its way from another replica
 * (its write follows the answer by a commit); a lookup asks again after these pauses, then gives up.
 */
export interface RecentQuoteWait {
  withinMs: number;
  pausesMs: readonly number[];
}
const RECENT_QUOTE_WAIT: RecentQuoteWait = { withinMs: 2_000, pausesMs: [20, 60, 150, 300] };

/** When a UUIDv7 was minted (its first 48 bits), or NaN for any other id. */
export function mintedAt(id: string): number {
  return id.charAt(14) === '7' ? Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16) : Number.NaN;
}

@Injectable()
export class EstimatesRepository implements BeforeApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** How long a lookup looks again for a quote minted moments ago (tests on a loaded machine lengthen it). */
  recentQuoteWait = RECENT_QUOTE_WAIT;

  /** Quotes already answered whose INSERT has not committed yet: true once stored, false if it failed. */
  private readonly unwritten = new Map<string, Promise<boolean>>();

  private queue: Array<{ quote: NewQuote; resolve: () => void; reject: (error: unknown) => void }> = [];
  private flushing = false;
  /** After a failed batch, this many rows go one at a time. */
  private singleRows = 0;

  /**
   * Inserts a quote (and its content, the first time). Concurrent calls are grouped: while one
   * INSERT is in flight, the next ones wait and go together in one statement (group commit), so a
   * burst of estimates costs a few round trips, not one each. Each caller resolves only once its
   * row is committed: the id it answers with can be submitted with a job at once, on any replica.
   */
  insert(quote: NewQuote): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ quote, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /**
   * Stores a quote behind its answer: queued for the next grouped INSERT (normally committed within
   * a few milliseconds), without making the caller wait for it. Until it commits, a lookup on this
   * replica waits for the write, and one on another replica asks again for a moment (findForOrg),
   * so the id can be submitted with a job at once. A write that fails is logged; a submission that
   * names that quote then gets a fresh estimate, as for an expired one.
   */
  write(quote: NewQuote): void {
    const stored = this.insert(quote).then(
      () => true,
      (error: unknown) => {
        this.logger.error({ err: error, quoteId: quote.id }, 'a quote could not be stored; a job naming it gets a fresh estimate');
        return false;
      },
    );
    this.unwritten.set(quote.id, stored);
    void stored.then(() => this.unwritten.delete(quote.id));
  }

  /** Quotes answered before a shutdown are stored before the database connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.unwritten.values());
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.singleRows > 0 ? 1 : MAX_BATCH);
        if (this.singleRows > 0) this.singleRows -= 1;
        const { sql, params, contents } = insertStatement(batch.map((item) => item.quote));
        try {
          await this.dataSource.query(sql, params);
          for (const content of contents) content.persisted = true;
          for (const item of batch) item.resolve();
        } catch (error) {
          if (batch.length === 1) batch[0]!.reject(error);
          // One bad row (an org deleted meanwhile) must not fail the others: retry them one by one.
          else this.queue.unshift(...batch);
          if (batch.length > 1) this.singleRows = batch.length;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Deletes quotes that expired before `cutoff`, then contents created before it that no quote
   * uses any more (a replica writes new quotes against a content for a day at most, so a content
   * that old is never referenced again); returns how many quotes went.
   */
  async deleteExpiredBefore(cutoff: Date): Promise<number> {
    const result = (await this.dataSource.query('DELETE FROM quotes WHERE expires_at < $1', [cutoff])) as [unknown, number];
    await this.dataSource.query('DELETE FROM quote_contents c WHERE c.created_at < $1 AND NOT EXISTS (SELECT 1 FROM quotes q WHERE q.content_id = c.id)', [cutoff]);
    return result[1] ?? 0;
  }

  /**
   * A quote of this org with its content, or null (another org's quote is indistinguishable from a
   * missing one). A quote this replica answered moments ago is waited for; one minted in the last
   * two seconds elsewhere is looked for again a few times before it counts as missing.
   */
  async findForOrg(id: string, orgId: string): Promise<Quote | null> {
    const unwritten = this.unwritten.get(id);
    if (unwritten && !(await unwritten)) return null;
    const found = await this.lookup(id, orgId);
    if (found || unwritten || !(Date.now() - mintedAt(id) < this.recentQuoteWait.withinMs)) return found;
    for (const pause of this.recentQuoteWait.pausesMs) {
      await delay(pause);
      const later = await this.lookup(id, orgId);
      if (later) return later;
    }
    return null;
  }

  private lookup(id: string, orgId: string): Promise<Quote | null> {
    return this.dataSource.getRepository(Quote).findOneBy({ id, orgId });
  }
}

/** One statement for a batch: the contents not yet stored, then the quotes (the FK is checked at its end). */
function insertStatement(quotes: readonly NewQuote[]): { sql: string; params: unknown[]; contents: QuoteContentDraft[] } {
  const params: unknown[] = [];
  const contents = [...new Set(quotes.map((q) => q.content).filter((c) => !c.persisted))];
  const contentTuples = contents.map((c) => {
    const base = params.length;
    params.push(c.id, c.rowsJson, c.excludedJson, c.summary, c.createdAt);
    return `($${base + 1}::uuid, $${base + 2}::jsonb, $${base + 3}::jsonb, $${base + 4}, $${base + 5}::timestamptz)`;
  });
  const quoteTuples = quotes.map((q) => {
    const base = params.length;
    params.push(q.id, q.orgId, q.createdBy, q.content.id, q.requestJson, q.createdAt, q.expiresAt);
    return `($${base + 1}::uuid, $${base + 2}::uuid, $${base + 3}::uuid, $${base + 4}::uuid, $${base + 5}::jsonb, $${base + 6}::timestamptz, $${base + 7}::timestamptz)`;
  });
  const insertQuotes = `INSERT INTO quotes (id, org_id, created_by, content_id, request, created_at, expires_at) VALUES ${quoteTuples.join(', ')}`;
  const sql =
    contentTuples.length > 0
      ? `WITH contents AS (INSERT INTO quote_contents (id, rows, excluded, summary, created_at) VALUES ${contentTuples.join(', ')} ON CONFLICT (id) DO NOTHING) ${insertQuotes}`
      : insertQuotes;
  return { sql, params, contents };
}
