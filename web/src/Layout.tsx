import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Fragment, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { post, setCsrfToken } from './api.js';
import { preloadRoute } from './app-routes.js';
import { Link, navigate, useLocation } from './router.js';
import { SESSION_KEY } from './session.js';
import { useApplications } from './queries.js';
import type { Session } from './types.js';
import { Button, Callout, Dialog, Field, errorMessage } from './ui/basics.js';
import { Icon, type IconName } from './ui/icons.js';

const NAV: { to: string; label: string; icon: IconName; section?: string }[] = [
  { to: '/overview', label: 'Overview', icon: 'overview' },
  { to: '/integrations', label: 'Integrations', icon: 'plug', section: 'Connect' },
  { to: '/grants', label: 'Grants', icon: 'users' },
  { to: '/streams', label: 'Streams', icon: 'stream', section: 'Deliver' },
  { to: '/events', label: 'Events', icon: 'events' },
  { to: '/api-keys', label: 'API keys', icon: 'key', section: 'Application' },
  { to: '/settings', label: 'Settings', icon: 'settings' },
];

function isCurrent(to: string, path: string): boolean {
  return path === to || path.startsWith(`${to}/`) || (to === '/overview' && path === '/');
}

/** Environments: every application of the deployment, and the one this session acts on. */
function AppSwitcher() {
  const apps = useApplications();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const select = useMutation({
    mutationFn: (id: string) => post('/dashboard/api/applications/select', { application_id: id }),
    onSuccess: async () => {
      // Everything on screen belonged to the previous application.
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
      await qc.invalidateQueries();
    },
  });
  const selected = apps.data?.find((a) => a.selected);
  return (
    <div className="field">
      <label htmlFor="app-switcher" className="label">
        Application
      </label>
      <select
        id="app-switcher"
        className="select"
        value={selected?.application_id ?? ''}
        disabled={!apps.data || select.isPending}
        onChange={(e) => (e.target.value === '__new' ? setCreating(true) : select.mutate(e.target.value))}
      >
        {apps.data?.map((a) => (
          <option key={a.application_id} value={a.application_id}>
            {a.name} · {a.environment}
          </option>
        ))}
        <option value="__new">＋ New application…</option>
      </select>
      {selected ? (
        <span className="hint">
          Region <span className="tag">{selected.region}</span>
        </span>
      ) : null}
      <NewApplicationDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

function NewApplicationDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [env, setEnv] = useState('staging');
  const [errors, setErrors] = useState<{ name?: string; env?: string }>({});
  const create = useMutation({
    mutationFn: () => post('/dashboard/api/applications', { name: name.trim(), environment: env }),
    onSuccess: async () => {
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
      await qc.invalidateQueries();
      onClose();
      navigate('/integrations');
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = { ...(name.trim() ? {} : { name: 'Give the application a name' }), ...(/^[a-z0-9-]{1,32}$/.test(env) ? {} : { env: 'Use lowercase letters, digits and "-"' }) };
    setErrors(v);
    if (!Object.keys(v).length) create.mutate();
  };
  return (
    <Dialog open={open} onClose={onClose} title="New application">
      <form className="form" onSubmit={submit} noValidate>
        <p className="muted">An application is one environment — for example staging or production — with its own API keys, integrations, grants and streams.</p>
        {create.error ? <Callout tone="danger">{errorMessage(create.error)}</Callout> : null}
        <Field label="Name" error={errors.name} required>
          {(p) => <input {...p} className="input" value={name} onChange={(e) => setName(e.target.value)} placeholder="Acme staging" />}
        </Field>
        <Field label="Environment" hint="A short label such as staging or production." error={errors.env} required>
          {(p) => <input {...p} className="input" value={env} onChange={(e) => setEnv(e.target.value)} />}
        </Field>
        <div className="row">
          <span className="grow" />
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create and switch
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function Layout({ session, children }: { session: Session; children: ReactNode }) {
  const { path } = useLocation();
  const qc = useQueryClient();
  const [navOpen, setNavOpen] = useState(false);
  useEffect(() => setNavOpen(false), [path]);
  const signOut = useMutation({
    mutationFn: () => post('/dashboard/api/logout'),
    onSettled: () => {
      setCsrfToken(null);
      qc.clear();
      qc.setQueryData(SESSION_KEY, { signed_in: false, setup_required: false, idle_timeout_seconds: session.idle_timeout_seconds });
      navigate('/login', { replace: true });
    },
  });
  const brand = (
    <Link to="/overview" className="brand">
      <span className="brand-mark" aria-hidden="true">
        ≋
      </span>
      Tributary
    </Link>
  );
  return (
    <div className="shell" data-nav={navOpen ? 'open' : 'closed'}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar" id="sidebar" aria-label="Main navigation">
        {brand}
        <AppSwitcher />
        <nav className="nav" aria-label="Pages">
          {NAV.map((n) => (
            <Fragment key={n.to}>
              {n.section ? (
                <div className="nav-section" aria-hidden="true">
                  {n.section}
                </div>
              ) : null}
              <Link to={n.to} aria-current={isCurrent(n.to, path) ? 'page' : undefined} onMouseEnter={() => preloadRoute(n.to)} onFocus={() => preloadRoute(n.to)}>
                <Icon name={n.icon} />
                {n.label}
              </Link>
            </Fragment>
          ))}
        </nav>
        <div className="sidebar-foot">
          <div className="user-line">
            <span className="truncate muted" title={session.user?.email}>
              {session.user?.email}
            </span>
            <Button small variant="ghost" icon="logout" onClick={() => signOut.mutate()} busy={signOut.isPending}>
              Sign out
            </Button>
          </div>
        </div>
      </aside>
      {navOpen ? <div className="scrim" onClick={() => setNavOpen(false)} aria-hidden="true" /> : null}
      <div className="main">
        <header className="topbar">
          <Button variant="ghost" className="btn-icon" aria-label="Open navigation" aria-controls="sidebar" aria-expanded={navOpen} onClick={() => setNavOpen(true)}>
            <Icon name="menu" />
          </Button>
          {brand}
        </header>
        <main className="content" id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
