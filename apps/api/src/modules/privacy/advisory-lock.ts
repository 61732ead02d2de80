import type { DataSource } from 'typeorm';

/** Advisory-lock keys of the privacy crons (one per cron, so they never wait on each other). */
export const PRIVACY_LOCK_KEYS = {
  jobOutputs: 0x70726a6f, // "prjo"
  jobTelemetry: 0x70726a74, // "prjt"
  networkIdentifiers: 0x70726e69, // "prni"
  exports: 0x70726578, // "prex"
  sentEmails: 0x7072656d, // "prem"
  trainedDatasets: 0x70726474, // "prdt"
} as const;

/**
 * Runs `work` only in the process that gets the session advisory lock `key`; returns null when
 * another replica holds it. The lock lives on one pooled connection and is released after.
 */
export async function withAdvisoryLock<T>(dataSource: DataSource, key: number, work: () => Promise<T>): Promise<T | null> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [key])) as { locked: boolean }[];
    if (!row?.locked) return null;
    try {
      return await work();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [key]);
    }
  } finally {
    await runner.release();
  }
}
