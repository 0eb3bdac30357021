import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { del, patch, post } from '../api.js';
import { dateTime } from '../format.js';
import { useApplication } from '../queries.js';
import { useTitle } from '../router.js';
import type { Application } from '../types.js';
import { Button, Callout, Card, CopyField, ErrorState, Field, Loading, PageHeader, errorMessage } from '../ui/basics.js';

const LABEL = /^[a-z0-9-]{1,32}$/;

function redirectProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'Enter an absolute URL such as https://app.example.com/oauth/callback';
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname))) return 'Use https (http only for localhost)';
  if (u.hash) return 'Redirect URIs cannot contain a #fragment';
  return null;
}

function GeneralForm({ app }: { app: Application }) {
  const qc = useQueryClient();
  const [name, setName] = useState(app.name);
  const [environment, setEnvironment] = useState(app.environment);
  const [region, setRegion] = useState(app.region);
  const [errors, setErrors] = useState<{ name?: string; environment?: string; region?: string }>({});
  useEffect(() => {
    setName(app.name);
    setEnvironment(app.environment);
    setRegion(app.region);
  }, [app]);
  const save = useMutation({
    mutationFn: () => patch<Application>('/v3/applications', { name: name.trim(), environment, region }),
    onSuccess: (a) => {
      qc.setQueryData(['application'], a);
      void qc.invalidateQueries({ queryKey: ['applications'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = {
      ...(name.trim() ? {} : { name: 'Give the application a name' }),
      ...(LABEL.test(environment) ? {} : { environment: 'Lowercase letters, digits and "-"' }),
      ...(LABEL.test(region) ? {} : { region: 'Lowercase letters, digits and "-", such as us or eu' }),
    };
    setErrors(v);
    if (!Object.keys(v).length) save.mutate();
  };
  return (
    <Card title="Application" description="Names and labels shown here and in the switcher.">
      <form className="card-body form" onSubmit={submit} noValidate>
        {save.error ? <Callout tone="danger">{errorMessage(save.error)}</Callout> : null}
        {save.isSuccess ? <Callout tone="ok">Saved.</Callout> : null}
        <Field label="Name" error={errors.name} required>
          {(p) => <input {...p} className="input" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <div className="grid grid-2">
          <Field label="Environment" hint="staging, production…" error={errors.environment} required>
            {(p) => <input {...p} className="input" value={environment} onChange={(e) => setEnvironment(e.target.value)} />}
          </Field>
          <Field label="Region label" hint="Where this deployment runs, e.g. us or eu." error={errors.region} required>
            {(p) => <input {...p} className="input" value={region} onChange={(e) => setRegion(e.target.value)} />}
          </Field>
        </div>
        <div className="row">
          <span className="grow" />
          <Button type="submit" variant="primary" busy={save.isPending}>
            Save
          </Button>
        </div>
      </form>
    </Card>
  );
}

function RedirectUris({ app }: { app: Application }) {
  const qc = useQueryClient();
  const [url, setUrl] = useState('');
  const [error, setError] = useState<string | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: ['application'] });
  const add = useMutation({ mutationFn: () => post('/v3/applications/redirect-uris', { url: url.trim(), platform: 'web' }), onSuccess: () => (setUrl(''), refresh()) });
  const remove = useMutation({ mutationFn: (id: string) => del(`/v3/applications/redirect-uris/${id}`), onSuccess: refresh });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = redirectProblem(url.trim());
    setError(p);
    if (!p) add.mutate();
  };
  return (
    <Card title="Redirect URIs" description="Where hosted sign-in may send users back to (exact match).">
      {app.callback_uris.length ? (
        <ul className="list">
          {app.callback_uris.map((u) => (
            <li key={u.id}>
              <code className="grow truncate">{u.url}</code>
              <span className="muted nowrap">{dateTime(u.created_at)}</span>
              <Button small variant="danger" aria-label={`Remove ${u.url}`} busy={remove.isPending && remove.variables === u.id} onClick={() => remove.mutate(u.id)}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        <div className="card-body muted">None yet. Add the URL of your application’s OAuth callback.</div>
      )}
      <form className="card-body form" onSubmit={submit} noValidate>
        {add.error ? <Callout tone="danger">{errorMessage(add.error)}</Callout> : null}
        <Field label="Add a redirect URI" error={error}>
          {(p) => (
            <div className="input-group">
              <input {...p} className="input" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://app.example.com/oauth/callback" />
              <Button type="submit" busy={add.isPending}>
                Add
              </Button>
            </div>
          )}
        </Field>
      </form>
    </Card>
  );
}

export function SettingsPage() {
  useTitle('Settings');
  const app = useApplication();
  if (app.error) return <ErrorState error={app.error} retry={() => void app.refetch()} what="Settings" />;
  if (!app.data)
    return (
      <div className="card">
        <Loading />
      </div>
    );
  return (
    <div className="stack">
      <PageHeader title="Settings" description={`Application ${app.data.application_id}`} />
      <div className="split">
        <GeneralForm app={app.data} />
        <Card title="Deployment" description="Set by the server’s configuration.">
          <div className="card-body stack">
            <div className="stack-s">
              <span className="label">Public URL</span>
              <CopyField value={app.data.public_url} label="public URL" />
              <span className="hint">
                Change it with the <code>PUBLIC_URL</code> environment variable and restart. Hosted sign-in links and the provider redirect URI are built from it.
              </span>
            </div>
            <div className="stack-s">
              <span className="label">Provider redirect URI</span>
              <CopyField value={app.data.callback_url} label="provider redirect URI" />
              <span className="hint">Register this in every provider console (Azure, Google Cloud, Zoom).</span>
            </div>
          </div>
        </Card>
      </div>
      <RedirectUris app={app.data} />
    </div>
  );
}
