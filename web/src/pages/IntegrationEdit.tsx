import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, del, get, patch, post } from '../api.js';
import { date, daysUntil } from '../format.js';
import { useApplication } from '../queries.js';
import { Link, navigate, useTitle } from '../router.js';
import { PROVIDERS, PROVIDER_NAMES, type Connector, type ProviderId } from '../types.js';
import { Button, Callout, Card, CodeBlock, ConfirmDialog, CopyField, EmptyState, ErrorState, Field, Loading, PageHeader, errorMessage } from '../ui/basics.js';
import { Logo } from './Integrations.js';
import { GRAPH_PERMISSIONS, requiredResourceAccess, tenantProblem } from './microsoft-manifest.js';

type Audience = 'single' | 'organizations' | 'common';

interface Form {
  name: string;
  clientId: string;
  clientSecret: string;
  audience: Audience;
  tenant: string;
  expires: string;
  topic: string;
  imapHost: string;
  imapPort: string;
  imapSecurity: string;
  backfillDays: string;
}

const toDate = (unix: number | null) => (unix ? new Date(unix * 1000).toISOString().slice(0, 10) : '');
const fromDate = (d: string) => Math.floor(Date.parse(`${d}T00:00:00Z`) / 1000);

function initialForm(provider: ProviderId, c: Connector | null): Form {
  const s = c?.settings ?? {};
  const tenant = typeof s.tenant === 'string' ? s.tenant : 'organizations';
  return {
    name: c?.name ?? `${PROVIDER_NAMES[provider]}`,
    clientId: typeof s.client_id === 'string' ? s.client_id : '',
    clientSecret: '',
    audience: tenant === 'common' || tenant === 'organizations' ? tenant : 'single',
    tenant: tenant === 'common' || tenant === 'organizations' || tenant === 'consumers' ? '' : tenant,
    expires: toDate(c?.secret_expires_at ?? null),
    topic: typeof s.topic_name === 'string' ? s.topic_name : '',
    imapHost: typeof s.imap_host === 'string' ? s.imap_host : '',
    imapPort: s.imap_port !== undefined ? String(s.imap_port) : '993',
    imapSecurity: typeof s.imap_security === 'string' ? s.imap_security : 'tls',
    backfillDays: s.backfill_days !== undefined ? String(s.backfill_days) : '0',
  };
}

type Errors = Partial<Record<keyof Form, string>>;

function validate(provider: ProviderId, f: Form, creating: boolean): Errors {
  const e: Errors = {};
  if (!f.name.trim()) e.name = 'Give the integration a name';
  if (provider !== 'imap') {
    if (!f.clientId.trim()) e.clientId = 'Paste the Application (client) ID';
    if (creating && !f.clientSecret) e.clientSecret = 'Paste the client secret’s Value (it is shown once in the provider console)';
    if (f.expires && fromDate(f.expires) * 1000 < Date.now() && (creating || f.clientSecret)) e.expires = 'This date has passed: create a new secret and enter its expiry date';
  }
  if (provider === 'microsoft' && f.audience === 'single') {
    const p = tenantProblem(f.tenant);
    if (p) e.tenant = p;
  }
  if (provider === 'google' && f.topic && !/^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9._~%+-]{2,254}$/.test(f.topic)) e.topic = 'Use the full name: projects/<project>/topics/<topic>';
  if (provider === 'imap') {
    const port = Number(f.imapPort);
    if (f.imapPort && !(Number.isInteger(port) && port >= 1 && port <= 65535)) e.imapPort = 'A port between 1 and 65535';
  }
  const days = Number(f.backfillDays);
  if (f.backfillDays && !(Number.isInteger(days) && days >= 0 && days <= 3650)) e.backfillDays = 'A whole number of days, 0 to 3650';
  return e;
}

function settingsOf(provider: ProviderId, f: Form): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  if (provider !== 'imap') {
    s.client_id = f.clientId.trim();
    if (f.clientSecret) s.client_secret = f.clientSecret;
    if (f.expires) s.secret_expires_at = fromDate(f.expires);
  }
  if (provider === 'microsoft') s.tenant = f.audience === 'single' ? f.tenant.trim() : f.audience;
  if (provider === 'google' && f.topic) s.topic_name = f.topic;
  if (provider === 'imap') {
    if (f.imapHost.trim()) s.imap_host = f.imapHost.trim();
    if (f.imapPort) s.imap_port = Number(f.imapPort);
    s.imap_security = f.imapSecurity;
  }
  if (f.backfillDays !== '') s.backfill_days = Number(f.backfillDays);
  return s;
}

/** The secret's state, shown above the form: a warning from 30 days before expiry, an error after. */
function SecretHealth({ c }: { c: Connector }) {
  if (c.status === 'error') {
    return (
      <Callout tone="danger" title={c.secret_status === 'expired' ? 'The client secret has expired' : 'The provider rejected this integration'}>
        {c.error ?? 'Sign-ins and token refreshes fail until this is fixed.'} Create a new client secret in the provider console, paste its value below and save.
      </Callout>
    );
  }
  if (c.secret_status === 'expiring' && c.secret_expires_at) {
    return (
      <Callout tone="warn" title={`The client secret expires in ${daysUntil(c.secret_expires_at)} days`}>
        On {date(c.secret_expires_at)} every grant of this integration stops syncing. Create a new secret now, paste it below and update the expiry date.
      </Callout>
    );
  }
  return null;
}

function MicrosoftGuide({ callbackUrl }: { callbackUrl: string }) {
  return (
    <Card title="Set up the app in Microsoft Entra" description="Follow these steps in the Azure portal, then fill in the form.">
      <div className="card-body">
        <ol className="steps">
          <li className="step">
            <h3>Register an application</h3>
            <p className="muted">
              Azure portal → Microsoft Entra ID → <strong>App registrations</strong> → <strong>New registration</strong>. Choose who may sign in (the same choice as “Accounts” in the form).
              Use one app per environment: staging and production are separate registrations.
            </p>
          </li>
          <li className="step">
            <h3>Add the redirect URI</h3>
            <p className="muted">
              Platform <strong>Web</strong>, redirect URI exactly:
            </p>
            <CopyField value={callbackUrl} label="redirect URI" testId="redirect-uri" />
          </li>
          <li className="step">
            <h3>Add the API permissions</h3>
            <p className="muted">
              <strong>API permissions</strong> → Add a permission → Microsoft Graph → <strong>Delegated</strong>:
            </p>
            <div className="perm-list" data-testid="permissions">
              {GRAPH_PERMISSIONS.map((p) => (
                <span key={p.name} className="tag" title={p.why}>
                  {p.name}
                </span>
              ))}
            </div>
            <p className="muted">
              Or open <strong>Manifest</strong> and replace <code>requiredResourceAccess</code> with:
            </p>
            <CodeBlock code={requiredResourceAccess()} label="Manifest JSON" testId="manifest" />
          </li>
          <li className="step">
            <h3>Create a client secret</h3>
            <p className="muted">
              <strong>Certificates &amp; secrets</strong> → New client secret. Copy its <strong>Value</strong> (not the Secret ID) and note the expiry date: Tributary warns you 30 days before it
              passes.
            </p>
          </li>
        </ol>
      </div>
    </Card>
  );
}

function RedirectGuide({ provider, callbackUrl }: { provider: ProviderId; callbackUrl: string }) {
  const where = provider === 'google' ? 'Google Cloud console → APIs & Services → Credentials → OAuth client (Web application) → Authorized redirect URIs' : 'Zoom App Marketplace → your OAuth app → Redirect URL for OAuth and the allow list';
  return (
    <Card title={`Set up the ${PROVIDER_NAMES[provider]} app`}>
      <div className="card-body stack-s">
        <p className="muted">{where}:</p>
        <CopyField value={callbackUrl} label="redirect URI" testId="redirect-uri" />
      </div>
    </Card>
  );
}

export function IntegrationEditPage({ provider: raw }: { provider: string }) {
  const provider = raw as ProviderId;
  useTitle(`${PROVIDER_NAMES[provider] ?? raw} integration`);
  const qc = useQueryClient();
  const app = useApplication();
  const connector = useQuery({
    queryKey: ['connectors', provider],
    enabled: PROVIDERS.includes(provider),
    queryFn: async () => {
      try {
        return await get<Connector>(`/v3/connectors/${provider}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404 && !e.unavailable) return null;
        throw e;
      }
    },
  });
  const [form, setForm] = useState<Form | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [saved, setSaved] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  useEffect(() => {
    if (connector.data !== undefined && form === null) setForm(initialForm(provider, connector.data));
  }, [connector.data, form, provider]);

  const creating = connector.data === null;
  const save = useMutation({
    mutationFn: (f: Form) =>
      creating
        ? post<Connector>('/v3/connectors', { provider, name: f.name.trim(), settings: settingsOf(provider, f) })
        : patch<Connector>(`/v3/connectors/${provider}`, { name: f.name.trim(), settings: settingsOf(provider, f) }),
    onSuccess: (c) => {
      qc.setQueryData(['connectors', provider], c);
      void qc.invalidateQueries({ queryKey: ['connectors'] });
      setForm(initialForm(provider, c));
      setSaved(true);
    },
  });
  const remove = useMutation({
    mutationFn: () => del(`/v3/connectors/${provider}`),
    onSuccess: async () => {
      await qc.invalidateQueries();
      navigate('/integrations');
    },
  });

  if (!PROVIDERS.includes(provider)) return <EmptyState title="Unknown provider">Choose one of the providers on the Integrations page.</EmptyState>;
  if (connector.error) return <ErrorState error={connector.error} retry={() => void connector.refetch()} what="The integration" />;
  if (!form || connector.data === undefined)
    return (
      <div className="card">
        <Loading />
      </div>
    );

  const set = <K extends keyof Form>(k: K, v: Form[K]) => {
    setSaved(false);
    setForm({ ...form, [k]: v });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = validate(provider, form, creating);
    setErrors(v);
    if (Object.keys(v).length === 0) save.mutate(form);
  };
  const oauth = provider !== 'imap';
  const callbackUrl = app.data?.callback_url ?? '';

  const formCard = (
    <Card title={creating ? 'Connect Tributary to the app' : 'Integration settings'} description={creating ? 'Values from the app you registered.' : 'Paste a new secret here when you rotate it.'}>
      <form className="card-body form" onSubmit={submit} noValidate aria-label={`${PROVIDER_NAMES[provider]} integration`}>
        {save.error ? <Callout tone="danger" title="The server refused the settings">{errorMessage(save.error)}</Callout> : null}
        {saved && !save.isPending ? <Callout tone="ok">Saved.</Callout> : null}
        <Field label="Name" error={errors.name} required>
          {(p) => <input {...p} className="input" value={form.name} onChange={(e) => set('name', e.target.value)} />}
        </Field>
        {provider === 'microsoft' ? (
          <fieldset>
            <legend>Accounts that may sign in</legend>
            <div className="stack-s">
              {(
                [
                  ['organizations', 'Any organizational directory (multitenant)', 'Work and school accounts of any Microsoft 365 tenant.'],
                  ['common', 'Any directory and personal Microsoft accounts', 'Also Outlook.com accounts.'],
                  ['single', 'This directory only (single tenant)', 'Only accounts of your own tenant; enter its ID below.'],
                ] as const
              ).map(([value, title, text]) => (
                <label key={value} className="choice">
                  <input type="radio" name="audience" value={value} checked={form.audience === value} onChange={() => set('audience', value)} />
                  <span>
                    <strong>{title}</strong>
                    <span className="muted">{text}</span>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
        ) : null}
        {provider === 'microsoft' && form.audience === 'single' ? (
          <Field label="Directory (tenant) ID" hint="On the app’s Overview page in the Azure portal, or a verified domain." error={errors.tenant} required>
            {(p) => <input {...p} className="input mono" value={form.tenant} onChange={(e) => set('tenant', e.target.value)} placeholder="00000000-0000-0000-0000-000000000000" />}
          </Field>
        ) : null}
        {oauth ? (
          <>
            <Field label="Application (client) ID" error={errors.clientId} required>
              {(p) => <input {...p} className="input mono" value={form.clientId} onChange={(e) => set('clientId', e.target.value)} autoComplete="off" spellCheck={false} />}
            </Field>
            <Field
              label="Client secret"
              hint={connector.data?.client_secret_set ? 'A secret is stored (it is never shown again). Leave empty to keep it, or paste a new one.' : 'Write-only: stored sealed and never shown again.'}
              error={errors.clientSecret}
              required={creating}
            >
              {(p) => (
                <input
                  {...p}
                  className="input mono"
                  type="password"
                  autoComplete="new-password"
                  value={form.clientSecret}
                  placeholder={connector.data?.client_secret_set ? '•••••••• (stored)' : ''}
                  onChange={(e) => set('clientSecret', e.target.value)}
                />
              )}
            </Field>
            <Field label="Client secret expires on" hint="Provider consoles show it next to the secret; secrets last at most 24 months. You are warned 30 days before." error={errors.expires}>
              {(p) => <input {...p} className="input" type="date" value={form.expires} onChange={(e) => set('expires', e.target.value)} />}
            </Field>
          </>
        ) : null}
        {provider === 'google' ? (
          <Field label="Pub/Sub topic (optional)" hint="For Gmail push notifications: projects/<project>/topics/<topic>." error={errors.topic}>
            {(p) => <input {...p} className="input mono" value={form.topic} onChange={(e) => set('topic', e.target.value)} />}
          </Field>
        ) : null}
        {provider === 'imap' ? (
          <>
            <Field label="Default IMAP host" hint="Pre-filled for account owners; they can change it when they connect." error={errors.imapHost}>
              {(p) => <input {...p} className="input" value={form.imapHost} onChange={(e) => set('imapHost', e.target.value)} placeholder="imap.example.com" />}
            </Field>
            <div className="grid grid-2">
              <Field label="Port" error={errors.imapPort}>
                {(p) => <input {...p} className="input" inputMode="numeric" value={form.imapPort} onChange={(e) => set('imapPort', e.target.value)} />}
              </Field>
              <Field label="Security">
                {(p) => (
                  <select {...p} className="select" value={form.imapSecurity} onChange={(e) => set('imapSecurity', e.target.value)}>
                    <option value="tls">TLS</option>
                    <option value="starttls">STARTTLS</option>
                    <option value="none">None (testing only)</option>
                  </select>
                )}
              </Field>
            </div>
          </>
        ) : null}
        {provider !== 'zoom' ? (
          <Field label="Backfill days" hint="How many days of existing mail a new grant announces (0: only new mail)." error={errors.backfillDays}>
            {(p) => <input {...p} className="input" inputMode="numeric" value={form.backfillDays} onChange={(e) => set('backfillDays', e.target.value)} />}
          </Field>
        ) : null}
        <div className="row">
          {!creating ? (
            <Button variant="danger" icon="trash" onClick={() => setConfirmDelete(true)}>
              Delete
            </Button>
          ) : null}
          <span className="grow" />
          <Button type="submit" variant="primary" busy={save.isPending}>
            {creating ? 'Create integration' : 'Save changes'}
          </Button>
        </div>
      </form>
    </Card>
  );

  return (
    <div className="stack">
      <PageHeader
        crumbs={
          <>
            <Link to="/integrations">Integrations</Link> <span aria-hidden="true">/</span>
          </>
        }
        title={`${PROVIDER_NAMES[provider]}${creating ? ' — new integration' : ''}`}
        actions={<Logo provider={provider} />}
      />
      {connector.data ? <SecretHealth c={connector.data} /> : null}
      {provider === 'microsoft' ? (
        <div className="split">
          <MicrosoftGuide callbackUrl={callbackUrl} />
          {formCard}
        </div>
      ) : oauth ? (
        <div className="split">
          <RedirectGuide provider={provider} callbackUrl={callbackUrl} />
          {formCard}
        </div>
      ) : (
        formCard
      )}
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete the ${PROVIDER_NAMES[provider]} integration?`}
        confirmLabel="Delete integration and its grants"
        busy={remove.isPending}
        error={errorMessage(remove.error)}
        onClose={() => setConfirmDelete(false)}
        onConfirm={() => remove.mutate()}
      >
        Every grant connected through it is deleted too, and their mailboxes stop syncing. This cannot be undone.
      </ConfirmDialog>
    </div>
  );
}
