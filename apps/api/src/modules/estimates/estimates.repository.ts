import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Quote } from './entities/quote.entity.js';

export interface NewQuote {
  id: string;
  orgId: string;
  createdBy: string;
  /** Already-serialized JSON. */
  requestJson: string;
  /** Already-serialized JSON arrays (the hot path serializes them once). */
  rowsJson: string;
  excludedJson: string;
  summary: string;
  createdAt: Date;
  expiresAt: Date;
}

@Injectable()
export class EstimatesRepository {
  constructor(private readonly dataSource: DataSource) {}

  private queue: Array<{ quote: NewQuote; resolve: () => void; reject: (error: unknown) => void }> = [];
  private flushing = false;
  /** After a failed batch, this many rows go one at a time. */
  private singleRows = 0;

  /**
   * Inserts a quote. Concurrent calls are grouped: while one INSERT is in flight, the next ones
   * wait and go together in one multi-row INSERT (group commit), so a burst of estimates costs a
   * few round trips, not one each. Each caller resolves only once its row is committed.
   */
  insert(quote: NewQuote): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ quote, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.singleRows > 0 ? 1 : 200);
        if (this.singleRows > 0) this.singleRows -= 1;
        const params: unknown[] = [];
        const tuples = batch.map(({ quote: q }) => {
          const base = params.length;
          params.push(q.id, q.orgId, q.createdBy, q.requestJson, q.rowsJson, q.excludedJson, q.summary, q.createdAt, q.expiresAt);
          return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}::jsonb, $${base + 5}::jsonb, $${base + 6}::jsonb, $${base + 7}, $${base + 8}, $${base + 9})`;
        });
        try {
          await this.dataSource.query(`INSERT INTO quotes (id, org_id, created_by, request, rows, excluded, summary, created_at, expires_at) VALUES ${tuples.join(', ')}`, params);
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

  /** Deletes quotes that expired before `cutoff`; returns how many. */
  async deleteExpiredBefore(cutoff: Date): Promise<number> {
    const result = (await this.dataSource.query('DELETE FROM quotes WHERE expires_at < $1', [cutoff])) as [unknown, number];
    return result[1] ?? 0;
  }

  /** A quote of this org, or null (another org's quote is indistinguishable from a missing one). */
  async findForOrg(id: string, orgId: string): Promise<Quote | null> {
    return this.dataSource.getRepository(Quote).findOneBy({ id, orgId });
  }
}
