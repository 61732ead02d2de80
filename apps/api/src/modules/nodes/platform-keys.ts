import { createNodeKeys, publicKeyFromSeed } from '@anneal/providers';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/app-config.js';

export const PLATFORM_KEYS = Symbol('PLATFORM_KEYS');

/** The platform's signing identity towards community nodes. The seed is a secret: never logged. */
export interface PlatformKeys {
  readonly publicKey: string;
  readonly seed: string;
}

/**
 * PLATFORM_NKEY_SEED, required in production. Elsewhere (tests, ad-hoc runs) a fresh pair per
 * process, with a warning: nodes registered against it cannot verify messages after a restart.
 */
export function platformKeysFromConfig(config: Pick<AppConfig, 'PLATFORM_NKEY_SEED' | 'NODE_ENV'>, logger: Logger): PlatformKeys {
  if (config.PLATFORM_NKEY_SEED) {
    const seed = config.PLATFORM_NKEY_SEED;
    const publicKey = publicKeyFromSeed(seed);
    return Object.freeze({ publicKey, seed, toJSON: () => ({ publicKey, seed: '[REDACTED]' }) });
  }
  if (config.NODE_ENV === 'production') throw new Error('PLATFORM_NKEY_SEED is required in production: community nodes verify assignments and control messages with it');
  if (config.NODE_ENV !== 'test') logger.warn('PLATFORM_NKEY_SEED is not set: using a key pair for this process only');
  const keys = createNodeKeys();
  return Object.freeze({ publicKey: keys.publicKey, seed: keys.seed, toJSON: () => ({ publicKey: keys.publicKey, seed: '[REDACTED]' }) });
}
