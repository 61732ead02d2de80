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
  nodeHeartbeatKeys: RotationCounts;
  /** Cloud attempts' assignments waiting, sealed, for their machine to join (kept minutes at most; they hold the attempt token). */
  cloudAssignments: RotationCounts;
}

/** Where application-encrypted secrets live: table, key column, sealed column. */
const SEALED_COLUMNS = [
  { report: 'totpSecrets', table: 'users', id: 'id', column: 'totp_secret_sealed' },
  { report: 'providerCredentials', table: 'provider_credentials', id: 'kind', column: 'sealed_credentials' },
  { report: 'nodeHeartbeatKeys', table: 'nodes', id: 'id', column: 'heartbeat_key_sealed' },
  { report: 'cloudAssignments', table: 'node_join_tokens', id: 'id', column: 'assignment_sealed' },
] as const;

/**
 * Re-seals with the primary key every application-encrypted secret that an older key sealed:
 * `users.totp_secret_sealed`, `provider_credentials.sealed_credentials`,
 * `nodes.heartbeat_key_sealed` and `node_join_tokens.assignment_sealed` (a cloud attempt's
 * assignment until its machine joins). Idempotent (a second run rotates nothing); each row is
 * updated only if it still holds the envelope that was read, so a concurrent change (an assignment
 * published and dropped meanwhile) is never overwritten. Fails loudly when an envelope's key is
 * not configured.
 */
export async function rotateSealedSecrets(dataSource: DataSource, box: SecretBox): Promise<RotationReport> {
  const report: RotationReport = {
    primaryKeyId: box.primaryKeyId,
    totpSecrets: { checked: 0, rotated: 0 },
    providerCredentials: { checked: 0, rotated: 0 },
    nodeHeartbeatKeys: { checked: 0, rotated: 0 },
    cloudAssignments: { checked: 0, rotated: 0 },
  };
  for (const { report: name, table, id, column } of SEALED_COLUMNS) {
    const counts = report[name];
    const rows = (await dataSource.query(`SELECT ${id} AS id, ${column} AS sealed FROM ${table} WHERE ${column} IS NOT NULL`)) as { id: string; sealed: string }[];
    for (const row of rows) {
      counts.checked += 1;
      if (!box.needsRotation(row.sealed)) continue;
      const result = (await dataSource.query(`UPDATE ${table} SET ${column} = $2 WHERE ${id} = $1 AND ${column} = $3 RETURNING ${id}`, [row.id, box.rotate(row.sealed), row.sealed])) as unknown;
      if (rowCount(result) > 0) counts.rotated += 1;
    }
  }
  return report;
}

function rowCount(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0].length;
  return Array.isArray(result) ? result.length : 0;
}
