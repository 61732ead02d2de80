#!/usr/bin/env node
// node apps/api/dist/cli/rotate-encryption-keys.js
// Re-seals every application-encrypted secret (users' TOTP secrets, provider credentials, node
// heartbeat keys, cloud attempts' sealed assignments) that is not sealed with the primary key of
// ENCRYPTION_KEYS ("new:…,old:…"). Idempotent: run it again and it rotates nothing. Reads
// DATABASE_URL (or the running `npm start`'s database) and ENCRYPTION_KEYS.
// See README "Rotating ENCRYPTION_KEYS" and docs/PRIVACY.md.
import { SecretBoxError } from '@anneal/providers';
import { secretBoxFromConfig } from '../core/crypto/secret-box.provider.js';
import { createDataSource } from '../core/database/data-source.js';
import { rotateSealedSecrets } from '../modules/privacy/key-rotation.js';
import { localDatabaseUrl } from './local-runtime.js';

async function main(): Promise<number> {
  const keys = process.env.ENCRYPTION_KEYS;
  if (!keys) {
    process.stderr.write('Set ENCRYPTION_KEYS to the new key first, then the old ones: ENCRYPTION_KEYS="k2:<base64>,k1:<base64>"\n');
    return 2;
  }
  const url = process.env.DATABASE_URL ?? localDatabaseUrl();
  if (!url) {
    process.stderr.write('Set DATABASE_URL, or start Anneal with `npm start` first.\n');
    return 2;
  }
  const box = secretBoxFromConfig({ ENCRYPTION_KEYS: keys });
  const dataSource = await createDataSource(url, 2).initialize();
  try {
    const report = await rotateSealedSecrets(dataSource, box);
    process.stdout.write(
      `Primary key: ${report.primaryKeyId}\n` +
        `TOTP secrets: ${report.totpSecrets.checked} checked, ${report.totpSecrets.rotated} re-sealed\n` +
        `Provider credentials: ${report.providerCredentials.checked} checked, ${report.providerCredentials.rotated} re-sealed\n` +
        `Node heartbeat keys: ${report.nodeHeartbeatKeys.checked} checked, ${report.nodeHeartbeatKeys.rotated} re-sealed\n` +
        `Cloud attempt assignments: ${report.cloudAssignments.checked} checked, ${report.cloudAssignments.rotated} re-sealed\n` +
        'Every secret is now sealed with the primary key: older keys can be removed from ENCRYPTION_KEYS once every replica runs with this list.\n',
    );
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Never print a key or a secret: only the reason (a missing key's id at most).
    const reason = error instanceof SecretBoxError ? error.message : error instanceof Error ? error.message : String(error);
    process.stderr.write(`rotate-encryption-keys failed: ${reason}\n`);
    process.exit(1);
  },
);
