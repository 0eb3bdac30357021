import { useQuery } from '@tanstack/react-query';
import { get } from '../api.js';
import { Link, navigate, useTitle } from '../router.js';
import type { DestinationType } from '../types.js';
import { EmptyState, ErrorState, Loading, PageHeader } from '../ui/basics.js';
import { Logo } from './Integrations.js';
import { StreamForm } from './StreamForm.js';

export const useDestinations = () => useQuery({ queryKey: ['destinations'], queryFn: () => get<DestinationType[]>('/v3/destinations'), staleTime: 5 * 60_000 });

export function StreamNewPage({ query }: { query: URLSearchParams }) {
  useTitle('New stream');
  const catalog = useDestinations();
  const type = query.get('type');
  const chosen = catalog.data?.find((d) => d.type === type);
  const crumbs = (
    <>
      <Link to="/streams">Streams</Link> <span aria-hidden="true">/</span>
    </>
  );
  if (catalog.error) return <ErrorState error={catalog.error} retry={() => void catalog.refetch()} what="The destination catalog" />;
  if (!catalog.data)
    return (
      <div className="card">
        <Loading />
      </div>
    );
  if (!chosen) {
    return (
      <div className="stack">
        <PageHeader crumbs={crumbs} title="New stream" description="Choose where the events go. Each destination keeps its own offset, retries and dead letters." />
        {catalog.data.length === 0 ? (
          <EmptyState title="No destinations installed">This server has no destination plug-ins.</EmptyState>
        ) : (
          <div className="grid grid-3" data-testid="destination-catalog">
            {catalog.data.map((d) => (
              <Link key={d.type} to={`/streams/new?type=${d.type}`} className="card" aria-label={`${d.title}: ${d.description}`}>
                <div className="card-body stack-s">
                  <div className="row">
                    <Logo provider={d.type} />
                    <h2>{d.title}</h2>
                  </div>
                  <p className="muted">{d.description}</p>
                </div>
              </Link>
            ))}
          </div>
        )}
      </div>
    );
  }
  return (
    <div className="stack">
      <PageHeader crumbs={crumbs} title={`New ${chosen.title.toLowerCase()} stream`} description={chosen.description} actions={<Link className="btn" to="/streams/new">Change destination</Link>} />
      <StreamForm destination={chosen} stream={null} onDone={(s) => navigate(`/streams/${s.id}`)} />
    </div>
  );
}
