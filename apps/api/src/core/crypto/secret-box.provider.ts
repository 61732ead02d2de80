import { SecretBox } from '@anneal/providers';
import type { AppConfig } from '../../config/app-config.js';

export const SECRET_BOX = Symbol('SECRET_BOX');

/** AES-256-GCM for secrets at rest, keyed by ENCRYPTION_KEYS (primary first, older keys after it). */
export function secretBoxFromConfig(config: Pick<AppConfig, 'ENCRYPTION_KEYS'>): SecretBox {
  const keys = config.ENCRYPTION_KEYS.split(',').map((pair) => {
    const [id = '', keyBase64 = ''] = pair.split(':');
    return { id, keyBase64 };
  });
  return new SecretBox(keys);
}
