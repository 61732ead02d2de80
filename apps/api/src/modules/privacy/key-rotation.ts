import type { SecretBox } from '@anneal/providers';
import type { DataSource } from 'typeorm';

export interface RotationCounts {
  /** Sealed values looked at. */
  checked: number;
  /** Re-sealed with the primary key (they were sealed with an older one). */
  rotated: number;
}

export interface RotationReport {
  primaryKeyId: string;
  totpSecrets: RotationCounts;
  providerCredentials: RotationCounts;
}

/**
 * Re-seals with the primary key every application-encrypted secret that an older key sealed:
 * `users.totp_secret_sealed` and `provider_credentials.sealed_credentials`. Idempotent (a second
 * run rotates nothing); each row is updated only if it still holds the envelope that was read, so
 * a concurrent change is never overwritten. Fails loudly when an envelope's key is not configured.
 */
export async function rotateSealedSecrets(dataSource: DataSource, box: SecretBox): Promise<RotationReport> {
  const report: RotationReport = { primaryKeyId: box.primaryKeyId, totpSecrets: { checked: 0, rotated: 0 }, providerCredentials: { checked: 0, rotated: 0 } };
  const users = (await dataSource.query(`SELECT id, totp_secret_sealed AS sealed FROM users WHERE totp_secret_sealed IS NOT NULL`)) as { id: string; sealed: string }[];
  for (const row of users) {
    report.totpSecrets.checked += 1;
    if (!box.needsRotation(row.sealed)) continue;
    const result = (await dataSource.query(`UPDATE users SET totp_secret_sealed = $2 WHERE id = $1 AND totp_secret_sealed = $3 RETURNING id`, [row.id, box.rotate(row.sealed), row.sealed])) as unknown;
    if (rowCount(result) > 0) report.totpSecrets.rotated += 1;
  }
  const credentials = (await dataSource.query(`SELECT kind, sealed_credentials AS sealed FROM provider_credentials`)) as { kind: string; sealed: string }[];
  for (const row of credentials) {
    report.providerCredentials.checked += 1;
    if (!box.needsRotation(row.sealed)) continue;
    const result = (await dataSource.query(`UPDATE provider_credentials SET sealed_credentials = $2 WHERE kind = $1 AND sealed_credentials = $3 RETURNING kind`, [row.kind, box.rotate(row.sealed), row.sealed])) as unknown;
    if (rowCount(result) > 0) report.providerCredentials.rotated += 1;
  }
  return report;
}

function rowCount(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0].length;
  return Array.isArray(result) ? result.length : 0;
}
