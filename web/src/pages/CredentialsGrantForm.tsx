import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { post } from '../api.js';
import { initialValues, SchemaFields, toConfig, type RawValues } from '../schema-form.js';
import type { Connector, Grant, JsonSchema } from '../types.js';
import { Button, Callout, errorMessage } from '../ui/basics.js';

/**
 * Providers with password authentication have no hosted consent: the admin enters the mailbox's
 * credentials (POST /v3/connect/custom), in a form generated from the provider's credentials
 * schema. The server logs in before it creates the grant, so a wrong password is reported here.
 * Fields marked `x-default-from: integration` start from the integration's defaults; those marked
 * `email` fall back to the email address typed above.
 */
export function CredentialsGrantForm({
  email,
  provider,
  schema,
  integration,
  onDone,
  onCancel,
}: {
  email: string;
  provider: string;
  schema: JsonSchema;
  integration: Connector;
  onDone: (g: Grant) => void;
  onCancel: () => void;
}) {
  const qc = useQueryClient();
  const fromEmail = Object.entries(schema.properties ?? {})
    .filter(([, s]) => s['x-default-from'] === 'email')
    .map(([k]) => k);
  const defaults = Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([k, s]) => s['x-default-from'] === 'integration' && integration.settings[k] !== undefined).map(([k]) => [k, integration.settings[k]]));
  const [values, setValues] = useState<RawValues>(() => initialValues(schema, defaults));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const connect = useMutation({
    mutationFn: (settings: Record<string, unknown>) => post<Grant>('/v3/connect/custom', { provider, settings }),
    onSuccess: (g) => {
      void qc.invalidateQueries({ queryKey: ['grants'] });
      onDone(g);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const filled: RawValues = { ...values };
    for (const k of fromEmail) if (typeof filled[k] !== 'string' || !String(filled[k]).trim()) filled[k] = email;
    const { config, errors: found } = toConfig(schema, filled, null);
    setErrors(found);
    if (!Object.keys(found).length) connect.mutate(config);
  };
  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Mailbox credentials">
      {connect.error ? <Callout tone="danger" title="Could not connect">{errorMessage(connect.error)}</Callout> : null}
      <SchemaFields
        schema={schema}
        values={values}
        errors={errors}
        stored={null}
        placeholders={Object.fromEntries(fromEmail.map((k) => [k, email]))}
        onChange={(k, v) => setValues({ ...values, [k]: v })}
      />
      <div className="row">
        <span className="grow" />
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={connect.isPending}>
          Connect mailbox
        </Button>
      </div>
    </form>
  );
}
