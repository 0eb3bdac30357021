import { date, daysUntil } from '../format.js';
import { useConnectors } from '../queries.js';
import { Link, useTitle } from '../router.js';
import { PROVIDERS, PROVIDER_NAMES, type Connector, type ProviderId } from '../types.js';
import { Callout, ErrorState, Loading, PageHeader, Status } from '../ui/basics.js';

export const PROVIDER_BLURB: Record<ProviderId, string> = {
  microsoft: 'Outlook and Exchange Online mailboxes through an Entra (Azure) app and Microsoft Graph.',
  google: 'Gmail accounts through a Google Cloud OAuth client, with Pub/Sub push.',
  imap: 'Any mailbox that speaks IMAP; the account owner enters their server and password.',
  zoom: 'Meeting transcripts from Zoom cloud recordings.',
};

export function Logo({ provider }: { provider: string }) {
  const letter = { microsoft: 'M', google: 'G', imap: '@', zoom: 'Z' }[provider] ?? provider.charAt(0).toUpperCase();
  return (
    <span className={`logo ${provider in PROVIDER_NAMES ? provider : 'dest'}`} aria-hidden="true">
      {letter}
    </span>
  );
}

export function secretLine(c: Connector): string | null {
  if (!c.secret_expires_at) return c.provider === 'imap' ? null : 'Secret expiry not recorded';
  const d = daysUntil(c.secret_expires_at);
  return d <= 0 ? `Secret expired ${date(c.secret_expires_at)}` : `Secret expires ${date(c.secret_expires_at)} (${d} days)`;
}

function ProviderCard({ provider, connector }: { provider: ProviderId; connector: Connector | undefined }) {
  return (
    <Link to={`/integrations/${provider}`} className="card" data-testid={`integration-${provider}`}>
      <div className="card-body stack-s">
        <div className="row-between">
          <div className="row">
            <Logo provider={provider} />
            <div>
              <h2>{PROVIDER_NAMES[provider]}</h2>
              <span className="muted">{connector ? connector.name : 'Not set up'}</span>
            </div>
          </div>
          {connector ? <Status value={connector.status === 'ok' ? 'active' : connector.status} /> : <span className="badge plain">available</span>}
        </div>
        <p className="muted">{PROVIDER_BLURB[provider]}</p>
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
          <span className="btn btn-small">Set up {PROVIDER_NAMES[provider]}</span>
        )}
      </div>
    </Link>
  );
}

export function IntegrationsPage() {
  useTitle('Integrations');
  const connectors = useConnectors();
  return (
    <div className="stack">
      <PageHeader title="Integrations" description="Register this application’s OAuth app (or IMAP defaults) with each provider. One integration per provider; account owners then connect mailboxes through it." />
      {connectors.error ? (
        <div className="card">
          <ErrorState error={connectors.error} retry={() => void connectors.refetch()} what="Integrations" />
        </div>
      ) : !connectors.data ? (
        <div className="card">
          <Loading />
        </div>
      ) : (
        <>
          {connectors.data.length === 0 ? (
            <Callout tone="info" title="Start with one provider">
              Pick the provider your users’ mailboxes live on. Microsoft 365 has a guided setup that walks you through the Azure portal.
            </Callout>
          ) : null}
          <div className="grid grid-2">
            {PROVIDERS.map((p) => (
              <ProviderCard key={p} provider={p} connector={connectors.data.find((c) => c.provider === p)} />
            ))}
          </div>
        </>
      )}
    </div>
  );
}
