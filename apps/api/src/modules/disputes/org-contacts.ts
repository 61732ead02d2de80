import type { EntityManager } from 'typeorm';
import type { EmailOutboxService } from '../notifications/email-outbox.service.js';

/**
 * Emails the owners and admins of an organization (active accounts with an address), through the
 * outbox in the caller's transaction: sent after commit. Subjects get the "Anneal: " prefix.
 */
export async function emailOrgAdmins(tx: EntityManager, emails: EmailOutboxService, orgId: string, subject: string, body: string): Promise<void> {
  const rows: { email: string }[] = await tx.query(
    `SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.role IN ('owner', 'admin') AND u.email IS NOT NULL AND u.status = 'active'`,
    [orgId],
  );
  for (const row of rows) await emails.enqueue(tx, { to: row.email, subject: `Anneal: ${subject}`, body });
}
