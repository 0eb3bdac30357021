import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { del, get, post } from '../api.js';
import { ago, dateTime, duration, num } from '../format.js';
import { Link, navigate, useTitle } from '../router.js';
import type { DeadLetter, Delivery, Point, Stream, StreamStatus } from '../types.js';
import { Button, Callout, Card, ConfirmDialog, CopyField, Dialog, EmptyState, ErrorState, Field, Loading, PageHeader, Status, errorMessage } from '../ui/basics.js';
import { BarChart } from '../ui/chart.js';
import { StreamForm } from './StreamForm.js';
import { useDestinations } from './StreamNew.js';

const enc = encodeURIComponent;

function Stat({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div className="card stat">
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {note ? <span className="stat-note">{note}</span> : null}
    </div>
  );
}

function Deliveries({ id }: { id: string }) {
  const q = useQuery({ queryKey: ['streams', id, 'deliveries'], queryFn: () => get<Delivery[]>(`/v3/streams/${enc(id)}/deliveries?limit=25`), refetchInterval: 5000 });
  return (
    <Card title="Recent deliveries" description="Each row is one batch written to the destination.">
      {q.error ? (
        <ErrorState error={q.error} what="Deliveries" />
      ) : !q.data ? (
        <Loading />
      ) : q.data.length === 0 ? (
        <EmptyState icon="stream" title="Nothing delivered yet">
          Deliveries appear here as soon as a matching event is written to the log.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="deliveries-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Outcome</th>
                <th scope="col" className="num">
                  Events
                </th>
                <th scope="col" className="num hide-s">
                  Attempt
                </th>
                <th scope="col">Answer</th>
                <th scope="col" className="num hide-s">
                  Time
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.map((d) => (
                <tr key={d.id}>
                  <td className="nowrap muted" title={dateTime(d.created_at)}>
                    {ago(d.created_at)}
                  </td>
                  <td>
                    <Status value={d.outcome} />
                  </td>
                  <td className="num">{num(d.count)}</td>
                  <td className="num hide-s">{d.attempt}</td>
                  <td className="truncate">{d.error ? <span className="field-error">{d.error}</span> : d.status_code ? `HTTP ${d.status_code}` : 'ok'}</td>
                  <td className="num nowrap hide-s">{d.duration_ms} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function DeadLetters({ id }: { id: string }) {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['streams', id, 'dead-letters'], queryFn: () => get<DeadLetter[]>(`/v3/streams/${enc(id)}/dead-letters?limit=100`), refetchInterval: 10_000 });
  const [picked, setPicked] = useState<string[]>([]);
  const redrive = useMutation({
    mutationFn: (ids: string[] | null) => post<{ queued: number }>(`/v3/streams/${enc(id)}/dead-letters/redrive`, ids ? { event_ids: ids } : {}),
    onSuccess: () => {
      setPicked([]);
      void qc.invalidateQueries({ queryKey: ['streams', id] });
    },
  });
  const rows = q.data ?? [];
  return (
    <Card
      title="Dead letters"
      description="Events the destination refused one by one. Fix the cause, then redrive them."
      actions={
        rows.length ? (
          <>
            <Button small disabled={!picked.length} busy={redrive.isPending && redrive.variables !== null} onClick={() => redrive.mutate(picked)}>
              Redrive selected
            </Button>
            <Button small variant="primary" busy={redrive.isPending && redrive.variables === null} onClick={() => redrive.mutate(null)}>
              Redrive all
            </Button>
          </>
        ) : null
      }
    >
      {redrive.error ? (
        <div className="card-body">
          <Callout tone="danger">{errorMessage(redrive.error)}</Callout>
        </div>
      ) : redrive.data ? (
        <div className="card-body">
          <Callout tone="ok">{redrive.data.queued} queued to be written again.</Callout>
        </div>
      ) : null}
      {q.error ? (
        <ErrorState error={q.error} what="Dead letters" />
      ) : !q.data ? (
        <Loading lines={2} />
      ) : rows.length === 0 ? (
        <div className="card-body muted">None — every event went through.</div>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">
                  <span className="sr-only">Select</span>
                </th>
                <th scope="col">Event</th>
                <th scope="col">Reason</th>
                <th scope="col">State</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.event_id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${d.event_id}`}
                      checked={picked.includes(d.event_id)}
                      onChange={() => setPicked(picked.includes(d.event_id) ? picked.filter((x) => x !== d.event_id) : [...picked, d.event_id])}
                    />
                  </td>
                  <td>
                    <div className="mono">{d.event_type}</div>
                    <div className="muted mono truncate">{d.event_id}</div>
                  </td>
                  <td>
                    {d.status_code ? <span className="tag">HTTP {d.status_code}</span> : null} {d.reason}
                  </td>
                  <td>
                    <Status value={d.state} />
                    {d.redrives ? <span className="muted"> ×{d.redrives}</span> : null}
                  </td>
                  <td className="muted nowrap">{ago(d.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function Replay({ id }: { id: string }) {
  const qc = useQueryClient();
  const [when, setWhen] = useState('');
  const [error, setError] = useState<string | null>(null);
  const replay = useMutation({
    mutationFn: (fromTime: number) => post<Stream>(`/v3/streams/${enc(id)}/replay`, { from_time: fromTime }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['streams'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = Date.parse(when);
    const p = !when ? 'Choose the time to replay from' : Number.isNaN(t) ? 'Not a valid date and time' : t > Date.now() ? 'Choose a time in the past' : null;
    setError(p);
    if (!p) replay.mutate(Math.floor(t / 1000));
  };
  return (
    <Card title="Replay" description="Deliver again every matching event from a point in time. The destination sees the same event ids again.">
      <form className="card-body form" onSubmit={submit} noValidate>
        {replay.error ? <Callout tone="danger">{errorMessage(replay.error)}</Callout> : null}
        {replay.isSuccess ? <Callout tone="ok">Rewound: delivery restarts from {when.replace('T', ' ')}.</Callout> : null}
        <Field label="Replay from (your local time)" error={error}>
          {(p) => (
            <div className="input-group">
              <input {...p} className="input" type="datetime-local" value={when} onChange={(e) => setWhen(e.target.value)} />
              <Button type="submit" busy={replay.isPending}>
                Replay
              </Button>
            </div>
          )}
        </Field>
      </form>
    </Card>
  );
}

function WebhookSecret({ stream }: { stream: Stream }) {
  const [open, setOpen] = useState(false);
  const qc = useQueryClient();
  const rotate = useMutation({
    mutationFn: () => post<{ webhook_secret?: string }>(`/v3/webhooks/rotate-secret/${enc(stream.id)}`),
    // The stream's config now carries the grace period; an edit must start from it.
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['streams', stream.id] }),
  });
  const expires = typeof stream.destination.config.previous_secret_expires_at === 'number' ? stream.destination.config.previous_secret_expires_at : null;
  return (
    <Card title="Signing secret" description="Requests carry X-Nylas-Signature and webhook-signature made with this secret.">
      <div className="card-body stack-s">
        {expires && expires * 1000 > Date.now() ? <Callout tone="info">The previous secret also signs until {dateTime(expires)} (rotation grace period).</Callout> : null}
        <div className="row">
          <Button icon="refresh" onClick={() => setOpen(true)}>
            Rotate secret
          </Button>
        </div>
      </div>
      <Dialog
        open={open}
        onClose={() => {
          setOpen(false);
          rotate.reset();
        }}
        title="Rotate the signing secret"
      >
        {rotate.data?.webhook_secret ? (
          <div className="stack">
            <Callout tone="warn" title="Shown once">
              Update your receiver with the new secret. The old one keeps signing beside it for 24 hours.
            </Callout>
            <CopyField value={rotate.data.webhook_secret} label="new secret" testId="rotated-secret" />
          </div>
        ) : (
          <div className="stack">
            <p>A new secret is generated; for 24 hours requests are signed with both, so your receiver can switch without dropping events.</p>
            {rotate.error ? <Callout tone="danger">{errorMessage(rotate.error)}</Callout> : null}
            <div className="row">
              <span className="grow" />
              <Button variant="primary" busy={rotate.isPending} onClick={() => rotate.mutate()}>
                Rotate now
              </Button>
            </div>
          </div>
        )}
      </Dialog>
    </Card>
  );
}

export function StreamDetailPage({ id }: { id: string }) {
  const qc = useQueryClient();
  const stream = useQuery({ queryKey: ['streams', id], queryFn: () => get<Stream>(`/v3/streams/${enc(id)}`) });
  useTitle(stream.data?.name ?? 'Stream');
  const status = useQuery({ queryKey: ['streams', id, 'status'], queryFn: () => get<StreamStatus>(`/v3/streams/${enc(id)}/status`), refetchInterval: 5000 });
  const throughput = useQuery({ queryKey: ['streams', id, 'throughput'], queryFn: () => get<Point[]>(`/dashboard/api/streams/${enc(id)}/throughput?minutes=180`), refetchInterval: 10_000 });
  const catalog = useDestinations();
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: ['streams'] });
  const toggle = useMutation({ mutationFn: (action: 'pause' | 'resume') => post<Stream>(`/v3/streams/${enc(id)}/${action}`), onSuccess: refresh });
  const test = useMutation({ mutationFn: () => post<{ success: boolean; error: string | null; status_code: number | null; duration_ms: number }>(`/v3/streams/${enc(id)}/test`) });
  const remove = useMutation({
    mutationFn: () => del(`/v3/streams/${enc(id)}`),
    onSuccess: async () => {
      await refresh();
      navigate('/streams');
    },
  });

  if (stream.error) return <ErrorState error={stream.error} retry={() => void stream.refetch()} what="The stream" />;
  if (!stream.data)
    return (
      <div className="card">
        <Loading lines={6} />
      </div>
    );
  const s = stream.data;
  const st = status.data;
  const live = st?.status ?? s.status;
  const destination = catalog.data?.find((d) => d.type === s.destination.type);
  const crumbs = (
    <>
      <Link to="/streams">Streams</Link> <span aria-hidden="true">/</span>
    </>
  );

  if (editing && destination) {
    return (
      <div className="stack">
        <PageHeader crumbs={crumbs} title={`Edit ${s.name}`} actions={<Button onClick={() => setEditing(false)}>Cancel</Button>} />
        <StreamForm
          destination={destination}
          stream={s}
          onDone={(updated) => {
            qc.setQueryData(['streams', id], updated);
            void refresh();
            setEditing(false);
          }}
        />
      </div>
    );
  }

  return (
    <div className="stack">
      <PageHeader
        crumbs={crumbs}
        title={s.name}
        description={
          <>
            <span className="tag">{s.destination.type}</span> {s.data_types.join(', ')}
            {s.kind === 'webhook' ? ' · created as a webhook' : ''}
          </>
        }
        actions={
          <>
            <span data-testid="stream-status">
              <Status value={live} />
            </span>
            {live === 'pause' || live === 'failed' ? (
              <Button variant="primary" icon="play" busy={toggle.isPending} onClick={() => toggle.mutate('resume')}>
                Resume
              </Button>
            ) : (
              <Button icon="pause" busy={toggle.isPending} onClick={() => toggle.mutate('pause')}>
                Pause
              </Button>
            )}
            <Button busy={test.isPending} onClick={() => test.mutate()}>
              Test connection
            </Button>
            <Button onClick={() => setEditing(true)} disabled={!destination}>
              Edit
            </Button>
            <Button variant="danger" icon="trash" aria-label="Delete stream" onClick={() => setConfirm(true)} />
          </>
        }
      />
      {toggle.error ? <Callout tone="danger">{errorMessage(toggle.error)}</Callout> : null}
      {test.data ? (
        test.data.success ? (
          <Callout tone="ok" title="Connection works">
            Test record accepted{test.data.status_code ? ` (HTTP ${test.data.status_code})` : ''} in {test.data.duration_ms} ms.
          </Callout>
        ) : (
          <Callout tone="danger" title="Test connection failed">
            {test.data.error}
          </Callout>
        )
      ) : test.error ? (
        <Callout tone="danger">{errorMessage(test.error)}</Callout>
      ) : null}
      {st?.last_error && (live === 'failing' || live === 'failed') ? (
        <Callout tone="danger" title={live === 'failed' ? 'Delivery stopped' : `Retrying (attempt ${st.retry_attempt})`}>
          {st.last_error} {st.next_retry_at ? `Next attempt ${ago(st.next_retry_at)}.` : live === 'failed' ? 'Fix the destination, then resume.' : ''}
        </Callout>
      ) : null}
      {live === 'pause' ? <Callout tone="info">Paused: events keep accumulating and are delivered from where the stream stopped when you resume.</Callout> : null}
      <div className="grid grid-4">
        <Stat label="Lag" value={st ? num(st.lag_events) : '…'} note="events not yet delivered" />
        <Stat label="Oldest waiting" value={st ? duration(st.lag_seconds) : '…'} note={st?.last_success_at ? `last success ${ago(st.last_success_at)}` : 'no success yet'} />
        <Stat label="Delivered" value={st ? num(st.delivered) : '…'} note={st ? `${num(st.failed)} in failed batches` : ''} />
        <Stat label="Dead letters" value={st ? num(st.dead_letters_pending) : '…'} note={st?.redrive_queued ? `${st.redrive_queued} queued for redrive` : 'kept for redrive'} />
      </div>
      <Card title="Throughput" description="Events delivered per minute, last 3 hours">
        <div className="card-body">{throughput.data ? <BarChart points={throughput.data} label="Events delivered per minute" /> : throughput.error ? <ErrorState error={throughput.error} what="Throughput" /> : <Loading />}</div>
      </Card>
      <Deliveries id={id} />
      <div className="split">
        <DeadLetters id={id} />
        <div className="stack">
          <Replay id={id} />
          {s.destination.type === 'webhook' ? <WebhookSecret stream={s} /> : null}
        </div>
      </div>
      <ConfirmDialog
        open={confirm}
        title={`Delete “${s.name}”?`}
        confirmLabel="Delete stream"
        busy={remove.isPending}
        error={errorMessage(remove.error)}
        onClose={() => setConfirm(false)}
        onConfirm={() => remove.mutate()}
      >
        Delivery stops and its dead letters and delivery history are removed. Events stay in the log for other streams.
      </ConfirmDialog>
    </div>
  );
}
