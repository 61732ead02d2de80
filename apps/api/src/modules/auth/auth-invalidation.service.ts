import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { normalizeSubjectPrefix } from '@anneal/providers';
import type { Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { LOGGER } from '../../core/logging/logger.js';
import { NatsService } from '../../core/nats/nats.service.js';
import { parseInvalidationMessage, type AuthInvalidation, type InvalidationMessage } from './auth-invalidation.js';
import { PrincipalCache } from './principal-cache.js';

/** Core NATS (not durable): a replica that misses one is covered by the cache's TTL. */
export function authInvalidationSubject(prefix: string): string {
  return `${normalizeSubjectPrefix(prefix)}anneal.auth.invalidate`;
}

/** How long a revocation waits for NATS to take the message before answering anyway. */
const PUBLISH_FLUSH_TIMEOUT_MS = 1_000;

/**
 * The principal cache of this replica and the broadcast that keeps every replica's cache honest: call
 * `announce` after the change has committed (a session or API key revoked, a user suspended or
 * deleted, 2FA turned on or off, a membership removed or its role changed). Matching entries go
 * here at once, and on every other replica as soon as the message arrives.
 */
@Injectable()
export class AuthInvalidationService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly cache = new PrincipalCache();
  private subscription?: Subscription;
  private readonly listeners = new Set<(invalidations: readonly AuthInvalidation[]) => void>();

  constructor(
    private readonly nats: NatsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = this.nats.connection.subscribe(authInvalidationSubject(this.nats.prefix), {
      callback: (error, message) => {
        if (error) return;
        let invalidations: AuthInvalidation[] | undefined;
        try {
          invalidations = parseInvalidationMessage(message.json());
        } catch {
          invalidations = undefined;
        }
        if (!invalidations) {
          this.logger.warn({ subject: message.subject }, 'ignored a malformed auth invalidation');
          // Something meant to invalidate: drop everything rather than guess what.
          this.cache.clear();
          return;
        }
        this.apply(invalidations);
      },
    });
    await this.nats.connection.flush();
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /** Drops the matching principals here, then tells every replica (this one ignores its echo harmlessly). */
  async announce(...invalidations: AuthInvalidation[]): Promise<void> {
    if (invalidations.length === 0) return;
    this.apply(invalidations);
    const message: InvalidationMessage = { schemaVersion: 1, invalidations };
    let timer: NodeJS.Timeout | undefined;
    try {
      const connection = this.nats.connection;
      connection.publish(authInvalidationSubject(this.nats.prefix), JSON.stringify(message));
      // The server has the message once the flush returns; other replicas get it right after.
      await Promise.race([connection.flush(), new Promise((resolve) => (timer = setTimeout(resolve, PUBLISH_FLUSH_TIMEOUT_MS)))]);
    } catch (error) {
      // The change is committed; the other replicas' entries expire within the TTL.
      this.logger.error({ err: error, invalidations }, 'auth invalidation could not be broadcast; other replicas rely on the cache TTL');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Calls `listener` with each invalidation applied here (local or received); returns the unsubscribe. */
  onApplied(listener: (invalidations: readonly AuthInvalidation[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(invalidations: readonly AuthInvalidation[]): void {
    for (const invalidation of invalidations) this.cache.invalidate(invalidation);
    for (const listener of this.listeners) listener(invalidations);
  }
}
