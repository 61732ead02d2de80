import type { ApiClient } from '../../../lib/api-client.js';
import { ApiError } from '../../../lib/api-error.js';
import { readEventStream } from '../../../lib/event-stream.js';
import { openJobStream, TERMINAL, type Job, type JobLiveMessage, type JobStatus } from '../api/jobs.api.js';

/**
 * Where the page's live connection stands: `connecting` (first try), `live` (the snapshot came:
 * updates flow), `reconnecting` (lost, retrying with backoff), `ended` (the job ended; nothing more
 * will come), `unavailable` (the API refused the stream for good, e.g. the job is gone).
 */
export type JobStreamState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'unavailable';

export interface JobStreamHandlers {
  state(state: JobStreamState): void;
  /** The job as the stream opened (every connection): what was missed before is read again here. */
  opened(job: Job): void;
  message(message: JobLiveMessage): void;
}

export interface JobStreamOptions {
  /** Wait before the n-th retry in a row (n ≥ 1). */
  retryDelayMs?: (failures: number) => number;
  /** A connection that sends nothing (not even its 15 s heartbeat) for this long is dropped and reopened. */
  idleTimeoutMs?: number;
}

/** 1 s, 2 s, 4 s … up to 30 s, with ±20 % jitter so many pages do not return in step. */
export function backoffMs(failures: number): number {
  const base = Math.min(30_000, 1_000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

const endsJob = (status: string | null | undefined) => typeof status === 'string' && TERMINAL.includes(status as JobStatus);

/** A refusal that retrying cannot change (the job is gone, the session lacks the scope). */
const isFinal = (error: unknown) => error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Follows a job's server-sent events (`GET /v1/jobs/:id/stream`) over `fetch`, so the bearer token
 * travels in the Authorization header, until the job ends or `signal` aborts. A dropped or silent
 * connection is reopened with backoff; each opening delivers the job's snapshot again.
 */
export async function followJobStream(api: ApiClient, jobId: string, signal: AbortSignal, handlers: JobStreamHandlers, options: JobStreamOptions = {}): Promise<void> {
  const retryDelayMs = options.retryDelayMs ?? backoffMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  let failures = 0;
  handlers.state('connecting');
  while (!signal.aborted) {
    const connection = new AbortController();
    const abort = () => connection.abort();
    signal.addEventListener('abort', abort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const stillAlive = () => {
      clearTimeout(idle);
      idle = setTimeout(abort, idleTimeoutMs);
    };
    let ended = false;
    try {
      stillAlive();
      const response = await openJobStream(api, jobId, connection.signal);
      if (!response.body) throw new Error('the stream has no body');
      await readEventStream(
        response.body,
        (event) => {
          if (event.type === 'job') {
            const job = JSON.parse(event.data) as Job;
            failures = 0;
            handlers.state('live');
            handlers.opened(job);
            ended = endsJob(job.status);
          } else if (event.type === 'event' || event.type === 'metric' || event.type === 'logs') {
            const message = JSON.parse(event.data) as JobLiveMessage;
            handlers.message(message);
            if (message.kind === 'event' && message.event.type === 'status' && endsJob(message.event.toStatus)) ended = true;
          }
          // `error` (the server failed mid-stream) and unknown types: the connection ends and is reopened.
        },
        stillAlive,
      );
    } catch (error) {
      if (isFinal(error)) {
        handlers.state('unavailable');
        return;
      }
      // A network failure, an abort for silence, a server that failed: retried below.
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', abort);
    }
    if (signal.aborted) return;
    if (ended) {
      handlers.state('ended');
      return;
    }
    failures += 1;
    handlers.state('reconnecting');
    await delay(retryDelayMs(failures), signal);
  }
}
