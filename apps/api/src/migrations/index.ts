import { Accounts1795300000000 } from './1795300000000-accounts.js';

/** Every migration, in order. Once landed, a migration is never edited: changes are new ones. */
export const MIGRATIONS = [Accounts1795300000000] as const;
