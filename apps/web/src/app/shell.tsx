import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { Me } from '../features/auth/api/auth.api.js';
import { logout } from '../features/auth/api/auth.api.js';
import { rolesOf, useApi } from '../features/auth/hooks/use-session.js';
import { Link, navigate, useLocation } from '../lib/router.js';
import { AVAILABLE } from './available.js';

interface NavItem {
  to: string;
  label: string;
}

/** The nav for what this person may do: customer always, provider and admin by `me`. */
export function navSections(me: Me): { title: string; items: NavItem[] }[] {
  const roles = rolesOf(me);
  const customer: NavItem[] = [{ to: '/', label: 'Overview' }];
  if (AVAILABLE.jobs) customer.push({ to: '/jobs/new', label: 'New job' });
  if (AVAILABLE.jobs) customer.push({ to: '/jobs', label: 'Jobs' });
  if (AVAILABLE.offers) customer.push({ to: '/offers', label: 'GPU offers' });
  if (AVAILABLE.datasets) customer.push({ to: '/datasets', label: 'Datasets' });
  if (AVAILABLE.billing) customer.push({ to: '/billing', label: 'Billing' });
  if (AVAILABLE.disputes) customer.push({ to: '/disputes', label: 'Disputes' });
  customer.push({ to: '/keys', label: 'API keys' }, { to: '/account', label: 'Account' });
  const sections = [{ title: 'Customer', items: customer }];
  const provider: NavItem[] = roles.provider ? [{ to: '/provider', label: 'Nodes' }] : [{ to: '/provider', label: 'Provide GPUs' }];
  if (roles.provider && AVAILABLE.earnings) provider.push({ to: '/provider/earnings', label: 'Earnings' });
  sections.push({ title: 'Provider', items: provider });
  if (roles.admin) {
    const admin: NavItem[] = [];
    if (AVAILABLE.adminDisputes) admin.push({ to: '/admin/disputes', label: 'Disputes' });
    if (AVAILABLE.adminUsers) admin.push({ to: '/admin/users', label: 'Users' });
    if (AVAILABLE.adminNodes) admin.push({ to: '/admin/nodes', label: 'Nodes' });
    if (AVAILABLE.adminModeration) admin.push({ to: '/admin/moderation', label: 'Moderation' });
    if (AVAILABLE.adminAudit) admin.push({ to: '/admin/audit', label: 'Audit log' });
    if (admin.length > 0) sections.push({ title: 'Admin', items: admin });
  }
  return sections;
}

function isCurrent(pathname: string, to: string): boolean {
  if (to === '/') return pathname === '/';
  if (to === '/provider') return pathname === '/provider' || pathname.startsWith('/provider/nodes/');
  if (to === '/jobs') return pathname === '/jobs' || (/^\/jobs\/[^/]+$/.test(pathname) && pathname !== '/jobs/new');
  return pathname === to || pathname.startsWith(`${to}/`);
}

export function Shell({ me, children }: { me: Me; children: ReactNode }) {
  const api = useApi();
  const { pathname } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const sections = navSections(me);
  const mainRef = useRef<HTMLElement>(null);
  const firstPath = useRef(pathname);
  // After a navigation, keyboard and screen-reader users continue from the new page's content.
  useEffect(() => {
    if (pathname !== firstPath.current) mainRef.current?.focus({ preventScroll: true });
  }, [pathname]);

  function signOut() {
    // The request is built with the current token before the session is cleared; the session ends
    // here whether or not the API answers.
    logout(api).catch(() => undefined);
    navigate('/login');
    api.clearSession();
  }

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Anneal
        </Link>
        <button type="button" className="menu-button secondary small" aria-expanded={menuOpen} aria-controls="site-nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <div className="topbar-right">
          {me.organizations.length > 1 ? (
            <label className="org-switch">
              <span className="visually-hidden">Acting organization</span>
              <select value={me.actingOrgId} onChange={(e) => api.setOrgId(e.target.value)}>
                {me.organizations.map((org) => (
                  <option key={org.id} value={org.id}>
                    {org.name}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <span className="muted user-email">{me.email}</span>
          <button type="button" className="secondary small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <div className="layout">
        <nav id="site-nav" className={menuOpen ? 'sidenav open' : 'sidenav'} aria-label="Main">
          {sections.map((section) => (
            <div key={section.title} className="nav-section">
              <h2 className="nav-title">{section.title}</h2>
              <ul>
                {section.items.map((item) => (
                  <li key={item.to}>
                    <Link to={item.to} aria-current={isCurrent(pathname, item.to) ? 'page' : undefined} onClick={() => setMenuOpen(false)}>
                      {item.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        <main id="main" ref={mainRef} className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
