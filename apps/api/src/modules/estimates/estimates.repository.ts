import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Quote } from './entities/quote.entity.js';

export interface NewQuote {
  id: string;
  orgId: string;
  createdBy: string;
  request: unknown;
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

  async insert(quote: NewQuote): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO quotes (id, org_id, created_by, request, rows, excluded, summary, created_at, expires_at) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8, $9)`,
      [quote.id, quote.orgId, quote.createdBy, JSON.stringify(quote.request), quote.rowsJson, quote.excludedJson, quote.summary, quote.createdAt, quote.expiresAt],
    );
  }

  /** A quote of this org, or null (another org's quote is indistinguishable from a missing one). */
  async findForOrg(id: string, orgId: string): Promise<Quote | null> {
    return this.dataSource.getRepository(Quote).findOneBy({ id, orgId });
  }
}
