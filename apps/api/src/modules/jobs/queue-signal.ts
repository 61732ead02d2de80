import { Injectable } from '@nestjs/common';

/**
 * "A job became schedulable": submission and requeues raise it, this replica's scheduler runs a
 * round at once instead of at its next tick. In process only; other replicas find the job on
 * their own tick.
 */
@Injectable()
export class QueueSignal {
  private readonly listeners = new Set<() => void>();

  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  raise(): void {
    for (const listener of this.listeners) listener();
  }
}
