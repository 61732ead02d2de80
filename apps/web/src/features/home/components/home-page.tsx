import { Notice, PageHeader } from '../../../components/status.js';
import { Link } from '../../../lib/router.js';
import { actingOrg } from '../../auth/hooks/use-session.js';
import type { Me } from '../../auth/api/auth.api.js';
import { AVAILABLE } from '../../../app/available.js';

export function HomePage({ me }: { me: Me }) {
  const org = actingOrg(me);
  return (
    <>
      <PageHeader title={`Welcome, ${me.name}`} />
      {!me.twoFactorEnabled ? (
        <Notice tone="warning">
          Two-factor authentication is off. <Link to="/account">Turn it on</Link> to protect your account{me.isAdmin ? ' (administrators need it for the admin console)' : ''}.
        </Notice>
      ) : null}
      <div className="tiles">
        {AVAILABLE.jobs ? (
          <section className="card tile">
            <h2>Fine-tune a model</h2>
            <p>Pick a recipe and see the price and runtime on every matching GPU before you submit.</p>
            <Link to="/jobs/new" className="button">
              New job
            </Link>
          </section>
        ) : null}
        <section className="card tile">
          <h2>API keys</h2>
          <p>Call Anneal from scripts and CI with a scoped key.</p>
          <Link to="/keys" className="button secondary">
            Manage keys
          </Link>
        </section>
        <section className="card tile">
          <h2>{org?.providerEnabled ? 'Your nodes' : 'Earn with your GPUs'}</h2>
          <p>{org?.providerEnabled ? 'See status, utilisation and prices of the GPUs you list.' : 'Run anneal-agent on a GPU host and list it on the marketplace.'}</p>
          <Link to="/provider" className="button secondary">
            {org?.providerEnabled ? 'Open provider console' : 'Become a provider'}
          </Link>
        </section>
      </div>
      <p className="muted">
        Acting for <strong>{org?.name ?? 'your organization'}</strong>
        {org ? ` (${org.role})` : ''}.
      </p>
    </>
  );
}
