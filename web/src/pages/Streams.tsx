import { ago } from '../format.js';
import { useStreams } from '../queries.js';
import { Link, useTitle } from '../router.js';
import { Card, EmptyState, ErrorState, Loading, PageHeader, Status } from '../ui/basics.js';
import { Icon } from '../ui/icons.js';

export function StreamsPage() {
  useTitle('Streams');
  const streams = useStreams();
  return (
    <div className="stack">
      <PageHeader
        title="Streams"
        description="Each stream sends the events you choose to one destination, in per-grant order, with retries, dead letters and replay. Webhooks are streams too."
        actions={
          <Link className="btn btn-primary" to="/streams/new">
            <Icon name="plus" size={16} />
            New stream
          </Link>
        }
      />
      <Card>
        {streams.error ? (
          <ErrorState error={streams.error} retry={() => void streams.refetch()} what="Streams" />
        ) : !streams.data ? (
          <Loading lines={4} />
        ) : streams.data.length === 0 ? (
          <EmptyState icon="stream" title="No streams yet" actions={<Link className="btn btn-primary" to="/streams/new">Create a stream</Link>}>
            Pick a destination — a webhook, files, PostgreSQL… — and the event types to send. You can test the connection before anything is delivered.
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="streams-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Destination</th>
                  <th scope="col" className="hide-s">Event types</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="hide-s">Updated</th>
                </tr>
              </thead>
              <tbody>
                {streams.data.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <Link to={`/streams/${s.id}`} className="row-link">
                        {s.name}
                      </Link>
                      {s.kind === 'webhook' ? <span className="badge accent plain">webhook</span> : null}
                      {s.description ? <div className="muted truncate">{s.description}</div> : null}
                    </td>
                    <td>
                      <span className="tag">{s.destination.type}</span>
                    </td>
                    <td className="muted hide-s">{s.data_types.join(', ')}</td>
                    <td>
                      <Status value={s.status} />
                    </td>
                    <td className="muted nowrap hide-s">{ago(s.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
