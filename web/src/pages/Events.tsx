import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { qs, request } from '../api.js';
import { ago, dateTime } from '../format.js';
import { useAllGrants } from '../queries.js';
import { navigate, useTitle } from '../router.js';
import { EVENT_TYPES, type CloudEvent } from '../types.js';
import { Button, Card, CodeBlock, EmptyState, ErrorState, Field, Loading, PageHeader } from '../ui/basics.js';
import { eventSummary } from './event-summary.js';

export function EventsPage({ query }: { query: URLSearchParams }) {
  useTitle('Events');
  const type = query.get('type') ?? '';
  const grantId = query.get('grant_id') ?? '';
  const grants = useAllGrants();
  const [selected, setSelected] = useState<string | null>(null);
  const events = useInfiniteQuery({
    queryKey: ['events', { type, grantId }],
    initialPageParam: '',
    queryFn: ({ pageParam }) => request<CloudEvent[]>('GET', `/v3/events${qs({ type, grant_id: grantId, limit: 50, page_token: pageParam })}`),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: 10_000,
  });
  const setFilter = (k: string, v: string) => {
    const q = new URLSearchParams(query);
    if (v) q.set(k, v);
    else q.delete(k);
    setSelected(null);
    navigate(`/events${q.toString() ? `?${q}` : ''}`, { replace: true });
  };
  const list = events.data?.pages.flatMap((p) => p.data) ?? [];
  const current = list.find((e) => e.id === selected) ?? list[0];
  const emailOf = (id: string | undefined) => (id ? (grants.data?.find((g) => g.id === id)?.email ?? id) : '—');

  return (
    <div className="stack">
      <PageHeader title="Events" description="The event log, newest first: what your streams deliver, with the exact payload." />
      <Card>
        <div className="card-body">
          <div className="toolbar" role="search">
            <Field label="Type">
              {(p) => (
                <select {...p} className="select" value={type} onChange={(e) => setFilter('type', e.target.value)}>
                  <option value="">All types</option>
                  {EVENT_TYPES.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Grant" className="search">
              {(p) => (
                <select {...p} className="select" value={grantId} onChange={(e) => setFilter('grant_id', e.target.value)}>
                  <option value="">All grants</option>
                  {grantId && !grants.data?.some((g) => g.id === grantId) ? <option value={grantId}>{grantId}</option> : null}
                  {grants.data?.map((g) => (
                    <option key={g.id} value={g.id}>
                      {g.email}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
        </div>
      </Card>
      {events.error ? (
        <div className="card">
          <ErrorState error={events.error} retry={() => void events.refetch()} what="Events" />
        </div>
      ) : !events.data ? (
        <div className="card">
          <Loading lines={6} />
        </div>
      ) : list.length === 0 ? (
        <div className="card">
          <EmptyState icon="events" title={type || grantId ? 'No events match' : 'No events yet'}>
            {type || grantId ? 'Try another type or grant.' : 'Events appear when a connected mailbox receives mail or a grant changes. Add a grant to get started.'}
          </EmptyState>
        </div>
      ) : (
        <div className="split">
          <Card title={`${list.length}${events.hasNextPage ? '+' : ''} events`}>
            <div data-testid="events-list">
              {list.map((e) => (
                <button key={e.id} type="button" className="event-row" aria-pressed={current?.id === e.id} onClick={() => setSelected(e.id)}>
                  <span className="truncate">
                    <strong>{eventSummary(e)}</strong>
                  </span>
                  <span className="muted nowrap">{ago(e.time)}</span>
                  <span className="mono muted truncate">{e.type}</span>
                  <span className="muted nowrap truncate">{emailOf(e.data.grant_id)}</span>
                </button>
              ))}
            </div>
            {events.hasNextPage ? (
              <div className="card-foot">
                <Button busy={events.isFetchingNextPage} onClick={() => void events.fetchNextPage()}>
                  Load older events
                </Button>
              </div>
            ) : null}
          </Card>
          {current ? (
            <Card title={current.type} description={`${dateTime(current.time)} · ${current.source}`}>
              <div className="card-body stack">
                <dl className="kv">
                  <dt>Event id</dt>
                  <dd className="mono">{current.id}</dd>
                  <dt>Grant</dt>
                  <dd>{emailOf(current.data.grant_id)}</dd>
                  <dt>Log position</dt>
                  <dd className="mono">{current.seq}</dd>
                </dl>
                <CodeBlock label="Payload (CloudEvents JSON)" code={JSON.stringify(current, null, 2)} testId="event-json" />
              </div>
            </Card>
          ) : null}
        </div>
      )}
    </div>
  );
}
