import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { post } from '../api.js';
import { dateTime } from '../format.js';
import { providerName, useApplication, useConnectors, useProviders } from '../queries.js';
import { Link } from '../router.js';
import type { ProviderId } from '../types.js';
import { Button, Callout, CopyField, Dialog, ErrorState, Field, errorMessage } from '../ui/basics.js';
import { Icon } from '../ui/icons.js';
import { CredentialsGrantForm } from './CredentialsGrantForm.js';

interface AuthLink {
  id: string;
  url: string;
  login_hint: string | null;
  expires_at: number;
}

/** The dashboard's own landing page after a hosted sign-in: a public page that says "connected". */
export const connectedPage = (publicUrl: string) => `${publicUrl}/connected`;

const EXPIRY = [
  { label: '1 hour', seconds: 3600 },
  { label: '24 hours', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
];

/**
 * "Add grant": an email address becomes a single-use hosted-auth link (POST /v3/connect/auth-links)
 * that the account owner opens. Used for re-authentication too, with the email filled in.
 */
export function AddGrantDialog({ open, onClose, email: initialEmail = '', provider: initialProvider }: { open: boolean; onClose: () => void; email?: string; provider?: ProviderId }) {
  const qc = useQueryClient();
  const app = useApplication();
  const connectors = useConnectors();
  const providers = useProviders();
  const authOf = (id: string) => providers.data?.find((p) => p.id === id);
  // Connectors of providers this deployment no longer registers cannot take grants.
  const all = (connectors.data ?? []).filter((c) => authOf(c.provider));
  const oauth = all.filter((c) => authOf(c.provider)?.auth === 'oauth');
  const [email, setEmail] = useState(initialEmail);
  const [provider, setProvider] = useState<string>(initialProvider ?? '');
  const [expires, setExpires] = useState(86_400);
  const [redirect, setRedirect] = useState('');
  const [errors, setErrors] = useState<{ email?: string; provider?: string }>({});
  const [link, setLink] = useState<AuthLink | null>(null);

  useEffect(() => {
    if (!open) return;
    setEmail(initialEmail);
    setLink(null);
    setPasswordDone(null);
    setErrors({});
  }, [open, initialEmail]);
  const [passwordDone, setPasswordDone] = useState<string | null>(null);
  useEffect(() => {
    if (!provider && all[0]) setProvider(initialProvider ?? (oauth[0] ?? all[0]).provider);
  }, [all, oauth, provider, initialProvider]);
  const chosen = authOf(provider);
  const password = chosen?.auth === 'password' && chosen.credentials_schema ? { connector: all.find((c) => c.provider === provider), info: chosen, schema: chosen.credentials_schema } : undefined;

  const landing = app.data ? connectedPage(app.data.public_url) : '';
  const registered = app.data?.callback_uris.map((u) => u.url) ?? [];
  const redirectUri = redirect || landing;

  const create = useMutation({
    mutationFn: async () => {
      // Tributary's own confirmation page must be an allowed redirect URI like any other.
      if (redirectUri === landing && !registered.includes(landing)) {
        await post('/v3/applications/redirect-uris', { url: landing, platform: 'web' });
        void qc.invalidateQueries({ queryKey: ['application'] });
      }
      return post<AuthLink>('/v3/connect/auth-links', { provider, login_hint: email.trim(), expires_in: expires, redirect_uri: redirectUri });
    },
    onSuccess: setLink,
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (password) return; // the credentials form below submits password grants
    const v = { ...(/^[^\s@]+@[^\s@]+$/.test(email.trim()) ? {} : { email: 'Enter the email address of the mailbox to connect' }), ...(provider ? {} : { provider: 'Choose a provider' }) };
    setErrors(v);
    if (!Object.keys(v).length) create.mutate();
  };

  return (
    <Dialog open={open} onClose={onClose} title={initialEmail ? `Re-authenticate ${initialEmail}` : 'Add a grant'}>
      {connectors.data && all.length === 0 ? (
        <div className="stack">
          <p className="muted">Set up an integration first: grants connect through one.</p>
          <Link className="btn btn-primary" to="/integrations" onClick={onClose}>
            Set up an integration
          </Link>
        </div>
      ) : passwordDone ? (
        <Callout tone="ok" title="Mailbox connected">
          {passwordDone} is now a grant; new mail appears in Events within seconds.
        </Callout>
      ) : link ? (
        <div className="stack" data-testid="auth-link">
          <Callout tone="ok" title="Link ready">
            Send it to {link.login_hint ?? 'the account owner'}. It works once and expires {dateTime(link.expires_at)}. Only {link.login_hint ?? 'the named account'} can complete it.
          </Callout>
          <CopyField value={link.url} label="sign-in link" testId="auth-link-url" />
          <div className="row">
            <span className="grow" />
            <Button onClick={() => setLink(null)}>Make another</Button>
            <a className="btn btn-primary" href={link.url} target="_blank" rel="noopener noreferrer">
              <Icon name="external" size={16} />
              Open link
            </a>
          </div>
        </div>
      ) : (
        <div className="stack">
          <form className="form" onSubmit={submit} noValidate>
            <p className="muted">
              {password ? `${password.info.name} mailboxes connect with their own credentials; Tributary logs in before it creates the grant.` : 'The account owner opens a hosted sign-in link, consents, and the mailbox appears here as a grant.'}
            </p>
            {create.error ? <ErrorOrMessage error={create.error} /> : null}
            <Field label="Email address" error={errors.email} required>
              {(p) => <input {...p} className="input" type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="someone@contoso.com" autoFocus={!initialEmail} />}
            </Field>
            <div className="grid grid-2">
              <Field label="Provider" error={errors.provider} required>
                {(p) => (
                  <select {...p} className="select" value={provider} onChange={(e) => setProvider(e.target.value)}>
                    {all.map((c) => (
                      <option key={c.provider} value={c.provider}>
                        {providerName(providers.data, c.provider)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              {password ? null : (
                <Field label="Link expires after">
                  {(p) => (
                    <select {...p} className="select" value={expires} onChange={(e) => setExpires(Number(e.target.value))}>
                      {EXPIRY.map((x) => (
                        <option key={x.seconds} value={x.seconds}>
                          {x.label}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              )}
            </div>
            {password ? null : (
              <>
                <Field
                  label="After signing in, go to"
                  hint={redirectUri === landing && !registered.includes(landing) ? 'Tributary’s confirmation page will be added to the redirect URIs.' : 'One of the application’s redirect URIs.'}
                >
                  {(p) => (
                    <select {...p} className="select" value={redirectUri} onChange={(e) => setRedirect(e.target.value)}>
                      <option value={landing}>Tributary’s “connected” page</option>
                      {registered
                        .filter((u) => u !== landing)
                        .map((u) => (
                          <option key={u} value={u}>
                            {u}
                          </option>
                        ))}
                    </select>
                  )}
                </Field>
                <div className="row">
                  <span className="grow" />
                  <Button onClick={onClose}>Cancel</Button>
                  <Button type="submit" variant="primary" busy={create.isPending}>
                    Create sign-in link
                  </Button>
                </div>
              </>
            )}
          </form>
          {password?.connector ? (
            <CredentialsGrantForm email={email.trim()} provider={password.info.id} schema={password.schema} integration={password.connector} onCancel={onClose} onDone={(g) => setPasswordDone(g.email)} />
          ) : null}
        </div>
      )}
    </Dialog>
  );
}

function ErrorOrMessage({ error }: { error: unknown }) {
  const msg = errorMessage(error) ?? '';
  if (msg.startsWith('no route for')) return <ErrorState error={error} what="Hosted sign-in" />;
  return <Callout tone="danger">{msg}</Callout>;
}
