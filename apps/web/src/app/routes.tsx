import { lazy, Suspense, useEffect } from 'react';
import { ErrorMessage } from '../components/error-message.js';
import { EmptyState, Loading } from '../components/status.js';
import { AccountPage } from '../features/account/components/account-page.js';
import { ApiKeysPage } from '../features/api-keys/components/api-keys-page.js';
import { LoginPage } from '../features/auth/components/login-page.js';
import { SignupPage } from '../features/auth/components/signup-page.js';
import { rolesOf, useMe, useSession } from '../features/auth/hooks/use-session.js';
import { BillingPage } from '../features/billing/components/billing-page.js';
import { EarningsPage } from '../features/billing/components/earnings-page.js';
import { DatasetsPage } from '../features/datasets/components/datasets-page.js';
import { JobsPage } from '../features/jobs/components/jobs-page.js';
import { NewJobPage } from '../features/jobs/components/new-job-page.js';
import { AdminDisputePage, AdminDisputesPage } from '../features/disputes/components/admin-disputes-pages.js';
import { DisputeDetailPage, DisputesPage } from '../features/disputes/components/disputes-pages.js';
import { AdminAuditPage, AdminModerationPage, AdminNodesPage, AdminUsersPage } from '../features/admin/components/admin-pages.js';
import { OffersPage } from '../features/offers/components/offers-page.js';
import { HomePage } from '../features/home/components/home-page.js';
import { ProviderPage } from '../features/provider/components/provider-page.js';
import { Link, matchPath, navigate, useLocation } from '../lib/router.js';
import { AVAILABLE } from './available.js';
import { Shell } from './shell.js';

// Pages with charts load recharts on first visit, keeping it out of the first download.
const NodeDetailPage = lazy(() => import('../features/provider/components/node-detail-page.js').then((m) => ({ default: m.NodeDetailPage })));
const JobDetailPage = lazy(() => import('../features/jobs/components/job-detail-page.js').then((m) => ({ default: m.JobDetailPage })));

const PUBLIC_PATHS = new Set(['/login', '/signup']);

function safeNext(value: string | null): string {
  // Only same-site paths: never an absolute URL someone put in a link.
  return value && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}

export function Routes() {
  const { pathname, search } = useLocation();
  const { signedIn } = useSession();
  const me = useMe();
  const isPublic = PUBLIC_PATHS.has(pathname);

  useEffect(() => {
    if (!signedIn && !isPublic) navigate(`/login${pathname === '/' ? '' : `?next=${encodeURIComponent(pathname)}`}`, { replace: true });
  }, [signedIn, isPublic, pathname]);

  useEffect(() => {
    const label = pathname === '/' ? 'Overview' : pathname.split('/').filter(Boolean).join(' · ');
    document.title = `${label} — Anneal`;
  }, [pathname]);

  if (!signedIn || isPublic) {
    if (signedIn && isPublic) {
      const next = safeNext(search.get('next'));
      return <Redirect to={next} />;
    }
    const done = () => navigate(safeNext(search.get('next')), { replace: true });
    return <div className="auth-layout">{pathname === '/signup' ? <SignupPage onSignedIn={done} /> : <LoginPage onSignedIn={done} />}</div>;
  }

  if (me.isPending) return <Loading label="Loading your account…" />;
  if (me.error || !me.data) {
    return (
      <div className="auth-layout">
        <ErrorMessage error={me.error} />
        <p>
          <Link to="/login">Sign in again</Link>
        </p>
      </div>
    );
  }

  return (
    <Shell me={me.data}>
      <Suspense fallback={<Loading />}>{page(pathname, me.data)}</Suspense>
    </Shell>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return <Loading />;
}

function page(pathname: string, me: NonNullable<ReturnType<typeof useMe>['data']>) {
  if (matchPath('/', pathname)) return <HomePage me={me} />;
  if (matchPath('/account', pathname)) return <AccountPage me={me} />;
  if (matchPath('/keys', pathname)) return <ApiKeysPage />;
  if (matchPath('/provider', pathname)) return <ProviderPage me={me} />;
  const node = rolesOf(me).provider ? matchPath('/provider/nodes/:id', pathname) : null;
  if (node?.id) return <NodeDetailPage nodeId={node.id} />;
  if (AVAILABLE.jobs && matchPath('/jobs/new', pathname)) return <NewJobPage />;
  if (AVAILABLE.jobs && matchPath('/jobs', pathname)) return <JobsPage />;
  const job = AVAILABLE.jobs ? matchPath('/jobs/:id', pathname) : null;
  if (job?.id) return <JobDetailPage jobId={job.id} />;
  if (AVAILABLE.offers && matchPath('/offers', pathname)) return <OffersPage />;
  if (AVAILABLE.datasets && matchPath('/datasets', pathname)) return <DatasetsPage />;
  if (AVAILABLE.disputes && matchPath('/disputes', pathname)) return <DisputesPage />;
  const dispute = AVAILABLE.disputes ? matchPath('/disputes/:id', pathname) : null;
  if (dispute?.id) return <DisputeDetailPage disputeId={dispute.id} />;
  if (me.isAdmin && AVAILABLE.adminDisputes && matchPath('/admin/disputes', pathname)) return <AdminDisputesPage />;
  const adminDispute = me.isAdmin && AVAILABLE.adminDisputes ? matchPath('/admin/disputes/:id', pathname) : null;
  if (adminDispute?.id) return <AdminDisputePage disputeId={adminDispute.id} />;
  if (me.isAdmin && AVAILABLE.adminUsers && matchPath('/admin/users', pathname)) return <AdminUsersPage />;
  if (me.isAdmin && AVAILABLE.adminNodes && matchPath('/admin/nodes', pathname)) return <AdminNodesPage />;
  if (me.isAdmin && AVAILABLE.adminModeration && matchPath('/admin/moderation', pathname)) return <AdminModerationPage />;
  if (me.isAdmin && AVAILABLE.adminAudit && matchPath('/admin/audit', pathname)) return <AdminAuditPage />;
  if (AVAILABLE.billing && matchPath('/billing', pathname)) return <BillingPage />;
  if (AVAILABLE.earnings && rolesOf(me).provider && matchPath('/provider/earnings', pathname)) return <EarningsPage />;
  return (
    <EmptyState title="This page does not exist">
      <Link to="/">Back to the overview</Link>
    </EmptyState>
  );
}
