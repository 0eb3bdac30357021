import { useQuery } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { get, qs } from '../api.js';
import { ago, num } from '../format.js';
import { Link, navigate, useTitle } from '../router.js';
import { providerName, useConnectors, useOverview, useProviders } from '../queries.js';
import type { Grant, ProviderId } from '../types.js';
import { Button, Card, EmptyState, ErrorState, Field, Loading, PageHeader, Status } from '../ui/basics.js';
import { AddGrantDialog } from './AddGrantDialog.js';

const STATUSES = ['valid', 'expired', 'revoked'];

export function GrantsPage({ query }: { query: URLSearchParams }) {
  useTitle('Grants');
  const [search, setSearch] = useState(query.get('q') ?? '');
  const provider = query.get('provider') ?? '';
  const providers = useProviders();
  const status = query.get('status') ?? '';
  const deferred = useDeferredValue(search.trim().toLowerCase());
  const [adding, setAdding] = useState<{ email?: string; provider?: ProviderId } | null>(null);
  const connectors = useConnectors();
  const overview = useOverview(60);
  // Filters the API has go to the server; the substring search runs here over the page.
  const grants = useQuery({
    queryKey: ['grants', { provider, status }],
    queryFn: () => get<Grant[]>(`/v3/grants${qs({ limit: 200, provider, grant_status: status })}`),
    refetchInterval: 20_000,
  });
  const setFilter = (k: string, v: string) => {
    const q = new URLSearchParams(query);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`/grants${q.toString() ? `?${q}` : ''}`, { replace: true });
  };
  const rows = (grants.data ?? []).filter((g) => !deferred || g.email.toLowerCase().includes(deferred) || g.id.toLowerCase().includes(deferred));
  const messages = overview.data?.messages_24h ?? {};
  const filtered = Boolean(provider || status || deferred);
  const noIntegrations = connectors.data?.length === 0;

  return (
    <div className="stack">
      <PageHeader
        title="Grants"
        description="Mailboxes and accounts connected through your integrations."
        actions={
          <Button variant="primary" icon="plus" onClick={() => setAdding({})} disabled={noIntegrations}>
            Add grant
          </Button>
        }
      />
      <Card>
        <div className="card-body">
          <div className="toolbar" role="search">
            <Field label="Search" className="search">
              {(p) => <input {...p} className="input" type="search" placeholder="Email or grant id" value={search} onChange={(e) => setSearch(e.target.value)} />}
            </Field>
            <Field label="Provider">
              {(p) => (
                <select {...p} className="select" value={provider} onChange={(e) => setFilter('provider', e.target.value)}>
                  <option value="">All providers</option>
                  {(providers.data ?? []).map(({ id: x }) => (
                    <option key={x} value={x}>
                      {providerName(providers.data, x)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Status">
              {(p) => (
                <select {...p} className="select" value={status} onChange={(e) => setFilter('status', e.target.value)}>
                  <option value="">Any status</option>
                  {STATUSES.map((x) => (
                    <option key={x} value={x}>
                      {x}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
        </div>
        {grants.error ? (
          <ErrorState error={grants.error} retry={() => void grants.refetch()} what="Grants" />
        ) : !grants.data ? (
          <Loading lines={5} />
        ) : rows.length === 0 ? (
          filtered ? (
            <EmptyState icon="search" title="No grants match" actions={<Button onClick={() => navigate('/grants')}>Clear filters</Button>}>
              Try another search or filter.
            </EmptyState>
          ) : noIntegrations ? (
            <EmptyState icon="plug" title="Set up an integration first" actions={<Link className="btn btn-primary" to="/integrations">Go to integrations</Link>}>
              Grants are created when account owners sign in through one of your integrations.
            </EmptyState>
          ) : (
            <EmptyState icon="users" title="No grants yet" actions={<Button variant="primary" icon="plus" onClick={() => setAdding({})}>Add grant</Button>}>
              Enter an account’s email address to get a sign-in link for its owner.
            </EmptyState>
          )
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="grants-table">
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col" className="hide-s">Provider</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="hide-s">Created</th>
                  <th scope="col">Last sync</th>
                  <th scope="col" className="num">
                    Messages 24 h
                  </th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((g) => (
                  <tr key={g.id}>
                    <td>
                      <Link to={`/grants/${g.id}`} className="row-link">
                        {g.email}
                      </Link>
                    </td>
                    <td className="hide-s">{providerName(providers.data, g.provider)}</td>
                    <td>
                      <Status value={g.grant_status} />
                    </td>
                    <td className="nowrap muted hide-s">{ago(g.created_at)}</td>
                    <td className="nowrap muted">{ago(g.last_sync_at)}</td>
                    <td className="num">{num(messages[g.id] ?? 0)}</td>
                    <td className="nowrap">
                      {g.grant_status === 'expired' ? (
                        <Button small icon="refresh" onClick={() => setAdding({ email: g.email, provider: g.provider })}>
                          Re-authenticate
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <AddGrantDialog open={adding !== null} onClose={() => setAdding(null)} {...(adding?.email ? { email: adding.email } : {})} {...(adding?.provider ? { provider: adding.provider } : {})} />
    </div>
  );
}
