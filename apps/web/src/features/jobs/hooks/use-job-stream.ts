import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { jobQueryKeys, type JobLiveMessage, type JobLogs, type JobMetrics, type LogLine, type MetricPoint } from '../api/jobs.api.js';
import { followJobStream, type JobStreamState } from '../lib/job-stream.js';

/** Live messages are applied to the caches at most this often (a trainer can report hundreds of steps a second). */
const APPLY_EVERY_MS = 250;
/** As many log lines as one `GET /logs` returns. */
const MAX_LOG_LINES = 1000;

/** Adds streamed points in step order; a point already there (same step and loss) is not added twice. */
export function withPoints(current: JobMetrics | undefined, points: readonly MetricPoint[]): JobMetrics | undefined {
  if (!current) return current; // not read yet: its first read includes these
  const merged = [...current.points];
  for (const point of points) {
    if (merged.some((p) => p.step === point.step && p.loss === point.loss)) continue;
    merged.push(point);
  }
  merged.sort((a, b) => a.step - b.step); // stable: a resumed attempt's repeated steps keep their order
  return { points: merged };
}

export function withLines(current: JobLogs | undefined, lines: readonly LogLine[]): JobLogs | undefined {
  if (!current) return current;
  return { ...current, lines: [...current.lines, ...lines].slice(-MAX_LOG_LINES) };
}

/** What arrived since the last apply. */
class PendingUpdates {
  points: MetricPoint[] = [];
  lines: LogLine[] = [];
  events = false;

  add(message: JobLiveMessage, at: string): void {
    if (message.kind === 'metric') this.points.push({ step: message.step, at, loss: message.loss, stepTimeMs: message.stepTimeMs, gpuUtilizationPct: message.gpuUtilizationPct });
    else if (message.kind === 'logs') for (const line of message.lines) this.lines.push({ seq: null, at, stream: message.stream, line });
    else this.events = true;
  }

  /** Into the react-query caches: points and lines appended; an event re-reads the timeline and the job. */
  applyTo(queryClient: QueryClient, orgId: string | null, jobId: string): void {
    if (this.points.length > 0) queryClient.setQueryData<JobMetrics>(jobQueryKeys.part(orgId, jobId, 'metrics'), (current) => withPoints(current, this.points));
    if (this.lines.length > 0) queryClient.setQueryData<JobLogs>(jobQueryKeys.part(orgId, jobId, 'logs'), (current) => withLines(current, this.lines));
    if (this.events) {
      // Events are few (status changes, checkpoints, validations) and carry no id to merge by.
      void queryClient.invalidateQueries({ queryKey: jobQueryKeys.part(orgId, jobId, 'events') });
      void queryClient.invalidateQueries({ queryKey: jobQueryKeys.job(orgId, jobId), exact: true });
    }
    this.points = [];
    this.lines = [];
    this.events = false;
  }
}

/**
 * Keeps the job page's caches current from the job's event stream while `active` (the job has not
 * ended): metrics and log lines are appended, events re-read the timeline and the job. Each
 * (re)connection re-reads what the page shows once, so nothing sent while disconnected is missed;
 * the end of the job re-reads everything for the final figures.
 */
export function useJobStream(jobId: string, active: boolean): JobStreamState {
  const api = useApi();
  const { orgId } = useSession();
  const queryClient = useQueryClient();
  const [state, setState] = useState<JobStreamState>('connecting');

  useEffect(() => {
    if (!active) return;
    const controller = new AbortController();
    const pending = new PendingUpdates();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const apply = () => {
      timer = undefined;
      pending.applyTo(queryClient, orgId, jobId);
    };
    void followJobStream(api, jobId, controller.signal, {
      state: (next) => {
        setState(next);
        if (next === 'ended') {
          clearTimeout(timer);
          apply();
          void queryClient.invalidateQueries({ queryKey: jobQueryKeys.job(orgId, jobId) });
        }
      },
      opened: (job) => {
        queryClient.setQueryData(jobQueryKeys.job(orgId, jobId), job);
        for (const part of ['events', 'logs', 'metrics'] as const) void queryClient.invalidateQueries({ queryKey: jobQueryKeys.part(orgId, jobId, part) });
      },
      message: (message) => {
        pending.add(message, new Date().toISOString());
        timer ??= setTimeout(apply, APPLY_EVERY_MS);
      },
    });
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [api, jobId, orgId, active, queryClient]);

  return active ? state : 'ended';
}
