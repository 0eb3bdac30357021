import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, del, get, patch, post } from '../api.js';
import { date, daysUntil } from '../format.js';
import { useProviders } from '../queries.js';
import { Link, navigate, useTitle } from '../router.js';
import { initialValues, SchemaFields, SECRET_MASK, toConfig, type RawValues } from '../schema-form.js';
import type { Connector, ProviderInfo } from '../types.js';
import { Button, Callout, Card, CodeBlock, ConfirmDialog, CopyField, EmptyState, ErrorState, Field, Loading, PageHeader, errorMessage } from '../ui/basics.js';
import { Logo } from './Integrations.js';

/**
 * One provider's integration: its setup guide and its settings form, both built from the
 * provider's description (GET /v3/providers): the guide's steps, copy fields and permissions are
 * data, and the form is generated from the provider's settings schema.
 */

/** `**bold**` and `` `code` `` in guide text. */
export function RichText({ text }: { text: string }): ReactNode {
  const parts = text.split(/(\*\*[^*]+\*\*|`[^`]+`)/g).filter(Boolean);
  return parts.map((p, i) =>
    p.startsWith('**') ? <strong key={i}>{p.slice(2, -2)}</strong> : p.startsWith('`') ? <code key={i}>{p.slice(1, -1)}</code> : <Fragment key={i}>{p}</Fragment>,
  );
}

function Guide({ guide }: { guide: NonNullable<ProviderInfo['guide']> }) {
  return (
    <Card title={guide.title} description={guide.description}>
      <div className="card-body">
        <ol className="steps">
          {guide.steps.map((step) => (
            <li key={step.title} className="step">
              <h3>{step.title}</h3>
              <p className="muted">
                <RichText text={step.text} />
              </p>
              {step.copy ? <CopyField value={step.copy.value} label={step.copy.label} {...(step.copy.test_id ? { testId: step.copy.test_id } : {})} /> : null}
              {step.tags ? (
                <div className="perm-list" data-testid={step.tags_test_id}>
                  {step.tags.map((t) => (
                    <span key={t.name} className="tag" title={t.why}>
                      {t.name}
                    </span>
                  ))}
                </div>
              ) : null}
              {step.code ? (
                <>
                  {step.code.intro ? (
                    <p className="muted">
                      <RichText text={step.code.intro} />
                    </p>
                  ) : null}
                  <CodeBlock code={step.code.value} label={step.code.label} {...(step.code.test_id ? { testId: step.code.test_id } : {})} />
                </>
              ) : null}
            </li>
          ))}
        </ol>
      </div>
    </Card>
  );
}

/** What the form starts from: the stored settings, the client id, a mask for a stored secret, the expiry. */
function storedOf(c: Connector | null): Record<string, unknown> | null {
  if (!c) return null;
  return { ...c.settings, ...(c.client_secret_set ? { client_secret: SECRET_MASK } : {}), ...(c.secret_expires_at ? { secret_expires_at: c.secret_expires_at } : {}) };
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

export function IntegrationEditPage({ provider: id }: { provider: string }) {
  const providers = useProviders();
  const provider = providers.data?.find((p) => p.id === id);
  useTitle(`${provider?.name ?? id} integration`);
  const qc = useQueryClient();
  const connector = useQuery({
    queryKey: ['connectors', id],
    enabled: provider !== undefined,
    queryFn: async () => {
      try {
        return await get<Connector>(`/v3/connectors/${id}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404 && !e.unavailable) return null;
        throw e;
      }
    },
  });
  const [name, setName] = useState<string | null>(null);
  const [values, setValues] = useState<RawValues | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const schema = provider?.integration_settings_schema;
  useEffect(() => {
    if (connector.data !== undefined && schema && values === null) {
      setValues(initialValues(schema, storedOf(connector.data)));
      setName(connector.data?.name ?? provider?.name ?? id);
    }
  }, [connector.data, schema, values, provider, id]);

  const creating = connector.data === null;
  const save = useMutation({
    mutationFn: (a: { name: string; settings: Record<string, unknown> }) =>
      creating ? post<Connector>('/v3/connectors', { provider: id, name: a.name, settings: a.settings }) : patch<Connector>(`/v3/connectors/${id}`, { name: a.name, settings: a.settings }),
    onSuccess: (c) => {
      qc.setQueryData(['connectors', id], c);
      void qc.invalidateQueries({ queryKey: ['connectors'] });
      if (schema) setValues(initialValues(schema, storedOf(c)));
      setName(c.name);
      setSaved(true);
    },
  });
  const remove = useMutation({
    mutationFn: () => del(`/v3/connectors/${id}`),
    onSuccess: async () => {
      await qc.invalidateQueries();
      navigate('/integrations');
    },
  });

  if (providers.error) return <ErrorState error={providers.error} retry={() => void providers.refetch()} what="The providers" />;
  if (providers.data && !provider) return <EmptyState title="Unknown provider">Choose one of the providers on the Integrations page.</EmptyState>;
  if (connector.error) return <ErrorState error={connector.error} retry={() => void connector.refetch()} what="The integration" />;
  if (!provider || !schema || values === null || name === null || connector.data === undefined)
    return (
      <div className="card">
        <Loading />
      </div>
    );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const stored = storedOf(connector.data ?? null);
    const { config, errors: found } = toConfig(schema, values, stored, { creating });
    const v: Record<string, string> = { ...found };
    if (!name.trim()) v.name = 'Give the integration a name';
    const expires = config.secret_expires_at;
    if (typeof expires === 'number' && expires * 1000 < Date.now() && (creating || config.client_secret !== undefined)) v.secret_expires_at = 'This date has passed: create a new secret and enter its expiry date';
    if (!creating && stored?.secret_expires_at === expires) delete config.secret_expires_at;
    setErrors(v);
    if (Object.keys(v).length === 0) save.mutate({ name: name.trim(), settings: config });
  };

  const formCard = (
    <Card title={creating ? 'Connect Tributary to the app' : 'Integration settings'} description={creating ? 'Values from the app you registered.' : 'Paste a new secret here when you rotate it.'}>
      <form className="card-body form" onSubmit={submit} noValidate aria-label={`${provider.name} integration`}>
        {save.error ? <Callout tone="danger" title="The server refused the settings">{errorMessage(save.error)}</Callout> : null}
        {saved && !save.isPending ? <Callout tone="ok">Saved.</Callout> : null}
        <Field label="Name" error={errors.name} required>
          {(p) => (
            <input
              {...p}
              className="input"
              value={name}
              onChange={(e) => {
                setSaved(false);
                setName(e.target.value);
              }}
            />
          )}
        </Field>
        <SchemaFields
          schema={schema}
          values={values}
          errors={errors}
          stored={storedOf(connector.data ?? null)}
          creating={creating}
          onChange={(k, v) => {
            setSaved(false);
            setValues({ ...values, [k]: v });
          }}
        />
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
        title={`${provider.name}${creating ? ' — new integration' : ''}`}
        actions={<Logo provider={provider.id} brand={provider.brand} />}
      />
      {connector.data ? <SecretHealth c={connector.data} /> : null}
      {provider.guide ? (
        <div className="split">
          <Guide guide={provider.guide} />
          {formCard}
        </div>
      ) : (
        formCard
      )}
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete the ${provider.name} integration?`}
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
