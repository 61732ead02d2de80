import { useInfiniteQuery } from '@tanstack/react-query';
import { ErrorMessage } from '../../../components/error-message.js';
import { EmptyState, Loading, PageHeader } from '../../../components/status.js';
import { formatDate, formatDuration } from '../../../lib/duration.js';
import { formatMicros } from '../../../lib/money.js';
import { Link } from '../../../lib/router.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { listJobs, TERMINAL } from '../api/jobs.api.js';
import { JobStatusBadge } from './job-status.js';
import { DataTable } from '../../../components/data-table.js';

export function JobsPage() {
  const api = useApi();
  const { orgId } = useSession();
  const jobs = useInfiniteQuery({
    queryKey: ['jobs', orgId, 'list'],
    queryFn: ({ pageParam, signal }) => listJobs(api, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    // Keep statuses fresh while something is still moving.
    refetchInterval: (query) => (query.state.data?.pages.some((p) => p.jobs.some((j) => !TERMINAL.includes(j.status))) ? 3_000 : false),
  });
  const list = jobs.data?.pages.flatMap((p) => p.jobs) ?? [];
  return (
    <>
      <PageHeader title="Jobs">
        <Link to="/jobs/new" className="button">
          New job
        </Link>
      </PageHeader>
      <section className="card">
        {jobs.isPending ? <Loading /> : null}
        <ErrorMessage error={jobs.error} />
        {jobs.data && list.length === 0 ? (
          <EmptyState title="No jobs yet">
            <Link to="/jobs/new">Start a fine-tuning job</Link>: you see the price and runtime on every GPU first.
          </EmptyState>
        ) : null}
        {list.length > 0 ? (
          <DataTable columns={['Job', 'Status', 'Model', 'Estimate', { label: 'Cost', className: 'num' }, 'Submitted']}>
            {list.map((job) => (
              <tr key={job.id} data-testid="job-row">
                <td>
                  <Link to={`/jobs/${job.id}`}>{job.name ?? job.id.slice(0, 8)}</Link>
                </td>
                <td>
                  <JobStatusBadge status={job.status} />
                </td>
                <td>
                  {String(job.recipe.baseModelId)} <span className="muted">{String(job.recipe.method)}</span>
                </td>
                <td>{job.estimate ? `~${formatDuration(job.estimate.runtimeSeconds.p50)}, ~${formatMicros(job.estimate.costMicros.p50)}` : '—'}</td>
                <td className="num">{formatMicros(TERMINAL.includes(job.status) ? job.actual.costMicros : job.costSoFarMicros)}</td>
                <td>{formatDate(job.createdAt)}</td>
              </tr>
            ))}
          
          </DataTable>
        ) : null}
        {jobs.hasNextPage ? (
          <button type="button" className="secondary" onClick={() => void jobs.fetchNextPage()} disabled={jobs.isFetchingNextPage}>
            Show older
          </button>
        ) : null}
      </section>
    </>
  );
}
