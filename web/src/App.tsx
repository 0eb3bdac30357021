import { useQueryClient } from '@tanstack/react-query';
import { Suspense, useEffect } from 'react';
import { onSessionEnded } from './api.js';
import { ROUTES } from './app-routes.js';
import { Layout } from './Layout.js';
import { LoginPage, SetupPage, SetupRequired } from './pages/AuthPages.js';
import { ConnectedPage } from './pages/Connected.js';
import { match, navigate, useLocation } from './router.js';
import { SESSION_KEY, useSession } from './session.js';
import { EmptyState, ErrorState, Loading } from './ui/basics.js';

export function App() {
  const session = useSession();
  const qc = useQueryClient();
  const { path, query } = useLocation();

  // Any 401 means the session ended (signed out elsewhere, idle timeout): ask who we are again.
  useEffect(() => onSessionEnded(() => void qc.invalidateQueries({ queryKey: SESSION_KEY })), [qc]);

  const s = session.data;
  const signedIn = s?.signed_in === true;
  useEffect(() => {
    if (signedIn && (path === '/login' || path === '/setup')) navigate('/overview', { replace: true });
  }, [signedIn, path]);

  if (path === '/connected') return <ConnectedPage />;
  if (session.isPending) return <Loading label="Starting" />;
  if (session.error) return <ErrorState error={session.error} retry={() => void session.refetch()} what="the dashboard" />;
  if (!s!.signed_in) {
    if (path === '/setup') return s!.setup_required ? <SetupPage token={query.get('token')} /> : <LoginPage />;
    return s!.setup_required ? <SetupRequired /> : <LoginPage />;
  }

  let content = null;
  for (const r of ROUTES) {
    const params = match(r.pattern, path);
    if (params) {
      content = r.render(params, query);
      break;
    }
  }
  return (
    <Layout session={s!}>
      <Suspense fallback={<Loading label="Loading page" lines={5} />}>
        {content ?? (
          <EmptyState icon="info" title="Page not found">
            There is nothing at {path}. Use the navigation to find your way.
          </EmptyState>
        )}
      </Suspense>
    </Layout>
  );
}
