import { date, daysUntil } from '../format.js';
import { useConnectors, useProviders } from '../queries.js';
import { Link, useTitle } from '../router.js';
import type { Connector, ProviderInfo } from '../types.js';
import { Callout, ErrorState, Loading, PageHeader, Status } from '../ui/basics.js';

/** A monogram logo: a provider's brand (GET /v3/providers), or the plain destination style. */
export function Logo({ provider, brand }: { provider: string; brand?: ProviderInfo['brand'] | undefined }) {
  const style = brand ? { background: `linear-gradient(135deg, ${brand.colors[0] ?? '#475569'}, ${brand.colors[1] ?? brand.colors[0] ?? '#64748b'})` } : undefined;
  return (
    <span className={`logo ${brand ? '' : 'dest'}`} style={style} aria-hidden="true">
      {brand?.letter ?? provider.charAt(0).toUpperCase()}
    </span>
  );
}

export function secretLine(c: Connector): string | null {
  if (!c.secret_expires_at) return c.client_secret_set ? 'Secret expiry not recorded' : null;
  const d = daysUntil(c.secret_expires_at);
  return d <= 0 ? `Secret expired ${date(c.secret_expires_at)}` : `Secret expires ${date(c.secret_expires_at)} (${d} days)`;
}

function ProviderCard({ provider: p, connector }: { provider: ProviderInfo; connector: Connector | undefined }) {
  return (
    <Link to={`/integrations/${p.id}`} className="card" data-testid={`integration-${p.id}`}>
      <div className="card-body stack-s">
        <div className="row-between">
          <div className="row">
            <Logo provider={p.id} brand={p.brand} />
            <div>
              <h2>{p.name}</h2>
              <span className="muted">{connector ? connector.name : 'Not set up'}</span>
            </div>
          </div>
          {connector ? <Status value={connector.status === 'ok' ? 'active' : connector.status} /> : <span className="badge plain">available</span>}
        </div>
        <p className="muted">{p.description}</p>
        {connector ? (
          <div className="stack-s">
            {connector.settings.client_id ? (
              <span className="hint">
                Client ID <span className="tag">{String(connector.settings.client_id)}</span>
              </span>
            ) : null}
            {secretLine(connector) ? <span className={connector.secret_status === 'ok' ? 'hint' : 'field-error'}>{secretLine(connector)}</span> : null}
          </div>
        ) : (
          <span className="btn btn-small">Set up {p.name}</span>
        )}
      </div>
    </Link>
  );
}

export function IntegrationsPage() {
  useTitle('Integrations');
  const connectors = useConnectors();
  const providers = useProviders();
  const error = connectors.error ?? providers.error;
  return (
    <div className="stack">
      <PageHeader title="Integrations" description="Register this application’s OAuth app (or IMAP defaults) with each provider. One integration per provider; account owners then connect mailboxes through it." />
      {error ? (
        <div className="card">
          <ErrorState error={error} retry={() => void Promise.all([connectors.refetch(), providers.refetch()])} what="Integrations" />
        </div>
      ) : !connectors.data || !providers.data ? (
        <div className="card">
          <Loading />
        </div>
      ) : (
        <>
          {connectors.data.length === 0 ? (
            <Callout tone="info" title="Start with one provider">
              Pick the provider your users’ mailboxes live on. Each one has a guided setup that walks you through its console.
            </Callout>
          ) : null}
          <div className="grid grid-2">
            {providers.data.map((p) => (
              <ProviderCard key={p.id} provider={p} connector={connectors.data.find((c) => c.provider === p.id)} />
            ))}
          </div>
        </>
      )}
    </div>
  );
}
