import type { MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import { isTerminal, type JobStatus } from './job-state.js';

/** How often an idle stream writes a comment, so proxies and load balancers keep it open. */
export const JOB_STREAM_HEARTBEAT_MS = 15_000;

/** The live messages published on a job's subject (`jobEventsSubject`), as the stream forwards them. */
export type JobLiveMessage =
  | { kind: 'event'; event: { type: string; toStatus?: string | null; [field: string]: unknown } }
  | { kind: 'metric'; step: number; loss: number | null; stepTimeMs: number | null; gpuUtilizationPct: number | null }
  | { kind: 'logs'; lines: string[]; stream: string };

/** A subscription to the job's subject: its raw messages, and a way to stop it. */
export interface JobSubscription {
  messages: AsyncIterable<{ data: Uint8Array }>;
  unsubscribe(): void;
}

export interface JobStreamSource {
  /** Subscribes to the job's live messages (before the snapshot is read, so nothing falls between). */
  subscribe(): JobSubscription;
  /** The job as `GET /v1/jobs/:id` shows it. */
  snapshot(): Promise<{ status: string }>;
  heartbeatMs?: number;
}

/** A status event that ends the job: the stream has nothing more to say after it. */
function endsJob(message: JobLiveMessage): boolean {
  return message.kind === 'event' && message.event.type === 'status' && typeof message.event.toStatus === 'string' && isTerminal(message.event.toStatus as JobStatus);
}

/**
 * The server-sent events of one job: `job` (the job now), then `event` (status changes and
 * notes), `metric` (one training step) and `logs` (a batch of log lines) as they happen, with a
 * heartbeat comment while idle. It completes after the job's terminal status (at once for a job
 * already ended), and when the message bus connection closes (the client reconnects and reads the
 * job again). The subscription is made before the snapshot is read, so a change that lands in
 * between is still delivered (after the snapshot; applying it twice is harmless).
 */
export function jobStream(source: JobStreamSource): Observable<MessageEvent> {
  return new Observable<MessageEvent>((subscriber) => {
    const subscription = source.subscribe();
    const decoder = new TextDecoder();
    const heartbeat = setInterval(() => subscriber.next({ comment: 'keep-alive' }), source.heartbeatMs ?? JOB_STREAM_HEARTBEAT_MS);
    void (async () => {
      const snapshot = await source.snapshot();
      subscriber.next({ type: 'job', data: snapshot });
      if (isTerminal(snapshot.status as JobStatus)) return;
      for await (const raw of subscription.messages) {
        let message: JobLiveMessage;
        try {
          message = JSON.parse(decoder.decode(raw.data)) as JobLiveMessage;
        } catch {
          continue; // not ours to interpret; the stored rows are the record
        }
        subscriber.next({ type: message.kind, data: message });
        if (endsJob(message)) return;
      }
    })().then(
      () => subscriber.complete(),
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      clearInterval(heartbeat);
      subscription.unsubscribe();
    };
  });
}
