import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quote contents apart from quotes: every quote of one estimate (same request, same offers, same
 * benchmark snapshot, same row limit) shows the same rows, so they are stored once and each quote
 * row keeps only who asked, when, and the request. At 500 estimates/s the per-quote copy of ~17 KiB
 * of JSON was most of PostgreSQL's work and the endpoint's latency. Existing quotes keep their
 * rows: each becomes its own content (same id).
 */
export class QuoteContents1795390000000 implements MigrationInterface {
  name = 'QuoteContents1795390000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE quote_contents (
        id uuid PRIMARY KEY,
        rows jsonb NOT NULL,
        excluded jsonb NOT NULL,
        summary text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX quote_contents_created_at_idx ON quote_contents (created_at)`);
    await db.query(`INSERT INTO quote_contents (id, rows, excluded, summary, created_at) SELECT id, rows, excluded, summary, created_at FROM quotes`);
    await db.query(`ALTER TABLE quotes ADD COLUMN content_id uuid`);
    await db.query(`UPDATE quotes SET content_id = id`);
    await db.query(`ALTER TABLE quotes ALTER COLUMN content_id SET NOT NULL`);
    await db.query(`ALTER TABLE quotes ADD CONSTRAINT quotes_content_id_fkey FOREIGN KEY (content_id) REFERENCES quote_contents (id) ON DELETE RESTRICT`);
    await db.query(`CREATE INDEX quotes_content_id_idx ON quotes (content_id)`);
    await db.query(`ALTER TABLE quotes DROP COLUMN rows, DROP COLUMN excluded, DROP COLUMN summary`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE quotes ADD COLUMN rows jsonb, ADD COLUMN excluded jsonb, ADD COLUMN summary text`);
    await db.query(`UPDATE quotes q SET rows = c.rows, excluded = c.excluded, summary = c.summary FROM quote_contents c WHERE c.id = q.content_id`);
    await db.query(`ALTER TABLE quotes ALTER COLUMN rows SET NOT NULL, ALTER COLUMN excluded SET NOT NULL, ALTER COLUMN summary SET NOT NULL`);
    await db.query(`ALTER TABLE quotes DROP COLUMN content_id`);
    await db.query(`DROP TABLE quote_contents`);
  }
}
