import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get } from '../api.js';
import { ago, dateTime, num } from '../format.js';
import { Link, navigate, useTitle } from '../router.js';
import { providerName, useOverview, useProviders } from '../queries.js';
import type { CloudEvent, Grant } from '../types.js';
import { Button, Callout, Card, CodeBlock, ConfirmDialog, EmptyState, ErrorState, Loading, PageHeader, Status, errorMessage } from '../ui/basics.js';
import { AddGrantDialog } from './AddGrantDialog.js';
import { eventSummary } from './event-summary.js';

interface Backfill {
  status?: string;
  done?: number;
  total?: number;
  since?: number;
}

function backfillOf(g: Grant): Backfill | null {
  const progress = g.sync_state.progress as { backfill?: Backfill } | undefined;
  return progress?.backfill ?? null;
}

export function GrantDetailPage({ id }: { id: string }) {
  useTitle('Grant');
  const qc = useQueryClient();
  const providers = useProviders();
  const grant = useQuery({ queryKey: ['grants', id], queryFn: () => get<Grant>(`/v3/grants/${encodeURIComponent(id)}`), refetchInterval: 15_000 });
  const events = useQuery({ queryKey: ['events', { grant: id }], queryFn: () => get<CloudEvent[]>(`/v3/events?grant_id=${encodeURIComponent(id)}&limit=15`), refetchInterval: 15_000 });
  const overview = useOverview(60);
  const [confirm, setConfirm] = useState(false);
  const [reauth, setReauth] = useState(false);
  const remove = useMutation({
    mutationFn: () => del(`/v3/grants/${encodeURIComponent(id)}`),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['grants'] });
      navigate('/grants');
    },
  });

  if (grant.error) return <ErrorState error={grant.error} retry={() => void grant.refetch()} what="The grant" />;
  if (!grant.data)
    return (
      <div className="card">
        <Loading lines={6} />
      </div>
    );
  const g = grant.data;
  const bf = backfillOf(g);
  const pct = bf?.total ? Math.round(((bf.done ?? 0) / bf.total) * 100) : bf?.status === 'done' ? 100 : 0;
  const { cursor, progress: _p, ...otherState } = g.sync_state;

  return (
    <div className="stack">
      <PageHeader
        crumbs={
          <>
            <Link to="/grants">Grants</Link> <span aria-hidden="true">/</span>
          </>
        }
        title={g.email}
        description={`${providerName(providers.data, g.provider)} · grant ${g.id}`}
        actions={
          <>
            <Status value={g.grant_status} />
            <Button icon="refresh" onClick={() => setReauth(true)}>
              Re-authenticate
            </Button>
            <Button variant="danger" icon="trash" onClick={() => setConfirm(true)}>
              Delete
            </Button>
          </>
        }
      />
      {g.grant_status === 'expired' ? (
        <Callout tone="danger" title="This grant has expired" action={<Button small onClick={() => setReauth(true)}>Send a sign-in link</Button>}>
          {g.error ?? 'The provider no longer accepts its refresh token.'} The account owner must sign in again; syncing resumes where it stopped.
        </Callout>
      ) : g.error ? (
        <Callout tone="warn" title="Last sync problem">
          {g.error}
        </Callout>
      ) : null}
      <div className="split">
        <Card title="Sync">
          <div className="card-body stack">
            <dl className="kv">
              <dt>Status</dt>
              <dd>
                <Status value={g.grant_status} />
              </dd>
              <dt>Last sync</dt>
              <dd>
                {ago(g.last_sync_at)} <span className="muted">({dateTime(g.last_sync_at)})</span>
              </dd>
              <dt>Messages, 24 h</dt>
              <dd>{num(overview.data?.messages_24h[g.id] ?? 0)}</dd>
              <dt>Connected</dt>
              <dd>{dateTime(g.created_at)}</dd>
              <dt>Scopes</dt>
              <dd>
                <div className="perm-list">
                  {g.scope.length ? g.scope.map((s) => <span key={s} className="tag">{s}</span>) : <span className="muted">—</span>}
                </div>
              </dd>
            </dl>
            <div className="stack-s">
              <div className="row-between">
                <span className="label">Backfill</span>
                <span className="muted">{bf ? `${num(bf.done ?? 0)} of ${num(bf.total ?? 0)} · ${bf.status ?? 'running'}` : 'not requested (new mail only)'}</span>
              </div>
              {bf ? (
                <div className="bar-meter" role="progressbar" aria-label="Backfill progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
                  <span className={`w-${Math.round(pct / 5) * 5}`} />
                </div>
              ) : null}
            </div>
            {cursor || Object.keys(otherState).length ? <CodeBlock label="Sync state" code={JSON.stringify({ cursor, ...otherState }, null, 2)} /> : null}
          </div>
        </Card>
        <Card title="Recent events" actions={<Link to={`/events?grant_id=${encodeURIComponent(g.id)}`}>Explore</Link>}>
          {events.error ? (
            <ErrorState error={events.error} what="Events" />
          ) : !events.data ? (
            <Loading />
          ) : events.data.length ? (
            <ul className="list">
              {events.data.map((e) => (
                <li key={e.id}>
                  <div className="grow">
                    <div className="truncate">{eventSummary(e)}</div>
                    <div className="muted mono">{e.type}</div>
                  </div>
                  <span className="muted nowrap">{ago(e.time)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <EmptyState icon="events" title="No events yet">
              New mail in this mailbox shows up here within seconds of arriving.
            </EmptyState>
          )}
        </Card>
      </div>
      <ConfirmDialog
        open={confirm}
        title={`Delete the grant for ${g.email}?`}
        confirmLabel="Delete grant"
        busy={remove.isPending}
        error={errorMessage(remove.error)}
        onClose={() => setConfirm(false)}
        onConfirm={() => remove.mutate()}
      >
        Syncing stops, the stored tokens are erased and a grant.deleted event is sent to your streams. Events already delivered stay where they are.
      </ConfirmDialog>
      <AddGrantDialog open={reauth} onClose={() => setReauth(false)} email={g.email} provider={g.provider} />
    </div>
  );
}
