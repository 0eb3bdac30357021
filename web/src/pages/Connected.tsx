import { useLocation, useTitle } from '../router.js';
import { Callout } from '../ui/basics.js';

/**
 * Where an account owner lands after a hosted sign-in started from the dashboard. It is public:
 * the owner of the mailbox is usually not a dashboard user.
 */
export function ConnectedPage() {
  const { query } = useLocation();
  const error = query.get('error');
  useTitle(error ? 'Sign-in failed' : 'Mailbox connected');
  return (
    <main className="auth-page" id="main">
      <section className="card auth-card">
        <div className="card-body stack">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true">
              ≋
            </span>
            Tributary
          </div>
          {error ? (
            <Callout tone="danger" title="The mailbox was not connected">
              {query.get('error_description') ?? error}. Ask for a new sign-in link and try again.
            </Callout>
          ) : (
            <Callout tone="ok" title="Mailbox connected">
              Thank you — access was granted. You can close this window.
            </Callout>
          )}
        </div>
      </section>
    </main>
  );
}
