import { num, daysUntil } from '../format.js';
import { useApplication, useConnectors, useOverview, useStreams, providerName, useProviders } from '../queries.js';
import { Link, useTitle } from '../router.js';
import type { Connector, Stream } from '../types.js';
import { Callout, Card, EmptyState, ErrorState, Loading, PageHeader, Status } from '../ui/basics.js';
import { BarChart, StackedBar } from '../ui/chart.js';
import { Icon } from '../ui/icons.js';

function Stat({ label, value, note, testId }: { label: string; value: string; note?: string; testId?: string }) {
  return (
    <div className="card stat" data-testid={testId}>
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {note ? <span className="stat-note">{note}</span> : null}
    </div>
  );
}

function Attention({ connectors, streams }: { connectors: Connector[]; streams: Stream[] }) {
  const providers = useProviders();
  const items = [
    ...connectors
      .filter((c) => c.status !== 'ok')
      .map((c) => (
        <Callout
          key={c.id}
          tone={c.status === 'error' ? 'danger' : 'warn'}
          title={`${providerName(providers.data, c.provider)}: ${c.secret_status === 'expiring' && c.secret_expires_at ? `client secret expires in ${daysUntil(c.secret_expires_at)} days` : c.secret_status === 'expired' ? 'client secret has expired' : 'integration needs attention'}`}
          action={
            <Link className="btn btn-small" to={`/integrations/${c.provider}`}>
              Fix
            </Link>
          }
        >
          {c.error ?? 'Create a new client secret in the provider console and paste it into the integration before the old one stops working.'}
        </Callout>
      )),
    ...streams
      .filter((s) => s.status === 'failing' || s.status === 'failed')
      .map((s) => (
        <Callout
          key={s.id}
          tone="danger"
          title={`Stream “${s.name}” is ${s.status}`}
          action={
            <Link className="btn btn-small" to={`/streams/${s.id}`}>
              Open
            </Link>
          }
        >
          Deliveries to its {s.destination.type} destination are not going through. Its status page shows the last error and the dead letters.
        </Callout>
      )),
  ];
  if (!items.length) return null;
  return (
    <section className="stack-s" aria-label="Needs attention" data-testid="attention">
      {items}
    </section>
  );
}

function GettingStarted({ hasIntegration, hasGrant, hasStream }: { hasIntegration: boolean; hasGrant: boolean; hasStream: boolean }) {
  const steps = [
    { done: hasIntegration, to: '/integrations', title: 'Add an integration', text: 'Register your Microsoft, Google, IMAP or Zoom app.' },
    { done: hasGrant, to: '/grants', title: 'Connect a mailbox', text: 'Send an account owner a hosted sign-in link.' },
    { done: hasStream, to: '/streams/new', title: 'Create a stream', text: 'Choose where events go: a webhook, files, PostgreSQL…' },
  ];
  return (
    <Card title="Get started" description="Three steps from an empty deployment to events flowing.">
      <ul className="list">
        {steps.map((s) => (
          <li key={s.title}>
            <span className={`badge ${s.done ? 'ok' : 'plain'}`}>{s.done ? 'done' : 'to do'}</span>
            <div className="grow">
              <Link to={s.to} className="row-link">
                {s.title}
              </Link>
              <div className="muted">{s.text}</div>
            </div>
          </li>
        ))}
      </ul>
    </Card>
  );
}

export function OverviewPage() {
  useTitle('Overview');
  const app = useApplication();
  const overview = useOverview(60);
  const connectors = useConnectors();
  const streams = useStreams();

  if (overview.error) return <ErrorState error={overview.error} retry={() => void overview.refetch()} what="The overview" />;
  const o = overview.data;
  const byStatus = o?.grants_by_status ?? {};
  const totalGrants = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const lastHour = o ? o.events_per_minute.reduce((s, p) => s + p.n, 0) : 0;
  const lastMinutes = o ? o.events_per_minute.slice(-5).reduce((s, p) => s + p.n, 0) / 5 : 0;
  const streamList = streams.data ?? [];
  const failing = streamList.filter((s) => s.status === 'failing' || s.status === 'failed').length;
  const ready = !!o && !!connectors.data;
  const started = ready && connectors.data!.length > 0 && totalGrants > 0 && streamList.length > 0;

  return (
    <div className="stack">
      <PageHeader
        title="Overview"
        description={app.data ? `${app.data.name} · ${app.data.environment} · region ${app.data.region}` : 'What is flowing, and what needs attention.'}
        actions={
          <Link className="btn" to="/events">
            <Icon name="events" size={16} />
            Browse events
          </Link>
        }
      />
      {connectors.data ? <Attention connectors={connectors.data} streams={streamList} /> : null}
      <div className="grid grid-4">
        <Stat testId="stat-grants" label="Valid grants" value={o ? num(byStatus.valid ?? 0) : '…'} note={o ? `${num(totalGrants)} in total` : ''} />
        <Stat label="Expired grants" value={o ? num(byStatus.expired ?? 0) : '…'} note={byStatus.expired ? 'need re-authentication' : 'none waiting'} />
        <Stat testId="stat-events" label="Events, last hour" value={o ? num(lastHour) : '…'} note={o ? `${lastMinutes.toFixed(1)}/min over 5 min` : ''} />
        <Stat label="Streams" value={streams.data ? num(streamList.length) : '…'} note={streams.error ? 'not available' : failing ? `${failing} failing` : 'all healthy'} />
      </div>
      <div className="split">
        <Card title="Events per minute" description="Appended to the event log, last 60 minutes" actions={<span className="badge plain">live</span>}>
          <div className="card-body">{o ? <BarChart points={o.events_per_minute} label="Events per minute" /> : <Loading />}</div>
        </Card>
        <div className="stack">
          <Card title="Grants by status" actions={<Link to="/grants">All grants</Link>}>
            <div className="card-body stack-s">
              {o ? (
                totalGrants ? (
                  <>
                    <StackedBar
                      label="Grants by status"
                      parts={[
                        { value: byStatus.valid ?? 0, tone: 'ok', name: 'valid' },
                        { value: byStatus.expired ?? 0, tone: 'warn', name: 'expired' },
                        { value: byStatus.revoked ?? 0, tone: 'danger', name: 'revoked' },
                      ]}
                    />
                    <div className="row muted">
                      <span>
                        <span className="legend-dot ok" />
                        {byStatus.valid ?? 0} valid
                      </span>
                      <span>
                        <span className="legend-dot warn" />
                        {byStatus.expired ?? 0} expired
                      </span>
                      <span>
                        <span className="legend-dot danger" />
                        {byStatus.revoked ?? 0} revoked
                      </span>
                    </div>
                  </>
                ) : (
                  <p className="muted">No grants yet. Add one from the Grants page once an integration is set up.</p>
                )
              ) : (
                <Loading lines={2} />
              )}
            </div>
          </Card>
          <Card title="Streams" actions={<Link to="/streams">All streams</Link>}>
            {streams.error ? (
              <div className="card-body muted">Streams are not available on this server yet.</div>
            ) : !streams.data ? (
              <Loading lines={2} />
            ) : streamList.length ? (
              <ul className="list">
                {[...streamList]
                  .sort((a, b) => Number(b.status === 'failing' || b.status === 'failed') - Number(a.status === 'failing' || a.status === 'failed'))
                  .slice(0, 5)
                  .map((s) => (
                    <li key={s.id}>
                      <Link to={`/streams/${s.id}`} className="row-link grow truncate">
                        {s.name}
                      </Link>
                      <span className="tag">{s.destination.type}</span>
                      <Status value={s.status} />
                    </li>
                  ))}
              </ul>
            ) : (
              <EmptyState icon="stream" title="No streams yet" actions={<Link className="btn btn-primary" to="/streams/new">Create a stream</Link>}>
                A stream sends events to a destination of your choice.
              </EmptyState>
            )}
          </Card>
        </div>
      </div>
      {ready && !started ? <GettingStarted hasIntegration={connectors.data!.length > 0} hasGrant={totalGrants > 0} hasStream={streamList.length > 0} /> : null}
    </div>
  );
}
