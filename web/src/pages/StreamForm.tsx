import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { patch, post } from '../api.js';
import { initialValues, SchemaFields, toConfig, type RawValues } from '../schema-form.js';
import { providerName, useAllGrants, useProviders } from '../queries.js';
import { EVENT_TYPES, type DestinationType, type Stream } from '../types.js';
import { Button, Callout, Card, Field, errorMessage } from '../ui/basics.js';
import { SetupGuidePanel } from './SetupGuidePanel.js';

interface TestResult {
  success: boolean;
  error: string | null;
  status_code: number | null;
  duration_ms: number;
}

interface Body {
  name: string;
  description: string | null;
  data_types: string[];
  filters: { providers: string[] | null; grant_ids: string[] | null };
  destination: { type: string; config: Record<string, unknown> };
}

/**
 * Create or edit a stream. Saving always goes through "Test connection": a configuration that
 * passes is started; one that fails can only be kept paused, with the error shown (bad input
 * never runs silently). A new stream is created paused first, because the test runs on a saved stream.
 */
export function StreamForm({ destination, stream, onDone }: { destination: DestinationType; stream: Stream | null; onDone: (s: Stream) => void }) {
  const qc = useQueryClient();
  const grants = useAllGrants();
  const stored = stream?.destination.config ?? null;
  const [name, setName] = useState(stream?.name ?? '');
  const [description, setDescription] = useState(stream?.description ?? '');
  const [types, setTypes] = useState<string[]>(stream?.data_types ?? ['message.created']);
  const [providers, setProviders] = useState<string[]>(stream?.filters.providers ?? []);
  const registered = useProviders();
  const [grantIds, setGrantIds] = useState<string[]>(stream?.filters.grant_ids ?? []);
  const [start, setStart] = useState<'latest' | 'earliest'>('latest');
  const [values, setValues] = useState<RawValues>(() => initialValues(destination.config_schema, stored));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [draft, setDraft] = useState<Stream | null>(stream);
  const [test, setTest] = useState<(TestResult & { sig: string }) | null>(null);
  const [busy, setBusy] = useState<'test' | 'save' | 'pause' | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  function build(): { body: Body; sig: string } | null {
    const { config, errors: cfgErrors } = toConfig(destination.config_schema, values, stored);
    const e: Record<string, string> = { ...cfgErrors };
    if (!name.trim()) e.__name = 'Give the stream a name';
    if (!types.length) e.__types = 'Choose at least one event type';
    setErrors(e);
    if (Object.keys(e).length) return null;
    const body: Body = {
      name: name.trim(),
      description: description.trim() || null,
      data_types: types,
      filters: { providers: providers.length ? providers : null, grant_ids: grantIds.length ? grantIds : null },
      destination: { type: destination.type, config: config },
    };
    return { body, sig: JSON.stringify(body) };
  }

  /** Saves the form to a paused stream (creating it the first time) and returns it. */
  async function savePaused(body: Body): Promise<Stream> {
    const saved = draft
      ? await patch<Stream>(`/v3/streams/${draft.id}`, { ...body, status: 'pause' })
      : await post<Stream>('/v3/streams', { ...body, status: 'pause', start });
    setDraft(saved);
    return saved;
  }

  async function run(kind: 'test' | 'save' | 'pause') {
    const built = build();
    if (!built) return;
    setBusy(kind);
    setFailure(null);
    try {
      const saved = await savePaused(built.body);
      void qc.invalidateQueries({ queryKey: ['streams'] });
      if (kind === 'pause') return onDone(saved);
      const result = await post<TestResult>(`/v3/streams/${saved.id}/test`);
      setTest({ ...result, sig: built.sig });
      if (kind === 'save' && result.success) onDone(await post<Stream>(`/v3/streams/${saved.id}/resume`));
    } catch (e) {
      setFailure(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run('save');
  };
  const toggle = (list: string[], v: string) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
  const testFailed = test && !test.success;

  return (
    <form className="stack" onSubmit={submit} noValidate aria-label="Stream settings">
      <Card title="Stream" description="What to send.">
        <div className="card-body form">
          <Field label="Name" error={errors.__name} required>
            {(p) => <input {...p} className="input" value={name} onChange={(e) => setName(e.target.value)} placeholder="Mail to the CRM" />}
          </Field>
          <Field label="Description">{(p) => <input {...p} className="input" value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
          <fieldset aria-describedby={errors.__types ? 'types-err' : undefined}>
            <legend className="required">Event types</legend>
            <div className="checks">
              {EVENT_TYPES.map((t) => (
                <label key={t} className="check">
                  <input type="checkbox" name="data_types" value={t} checked={types.includes(t)} onChange={() => setTypes(toggle(types, t))} />
                  {t}
                </label>
              ))}
            </div>
            {errors.__types ? (
              <span className="field-error" id="types-err">
                {errors.__types}
              </span>
            ) : null}
          </fieldset>
          <fieldset>
            <legend>Providers</legend>
            <div className="checks">
              {(registered.data ?? []).map(({ id: p }) => (
                <label key={p} className="check">
                  <input type="checkbox" name="providers" value={p} checked={providers.includes(p)} onChange={() => setProviders(toggle(providers, p))} />
                  {providerName(registered.data, p)}
                </label>
              ))}
            </div>
            <span className="hint">None checked: every provider.</span>
          </fieldset>
          {grants.data?.length ? (
            <fieldset>
              <legend>Grants</legend>
              <div className="checks">
                {grants.data.map((g) => (
                  <label key={g.id} className="check">
                    <input type="checkbox" name="grant_ids" value={g.id} checked={grantIds.includes(g.id)} onChange={() => setGrantIds(toggle(grantIds, g.id))} />
                    {g.email}
                  </label>
                ))}
              </div>
              <span className="hint">None checked: every grant, including future ones.</span>
            </fieldset>
          ) : null}
          {!stream ? (
            <fieldset>
              <legend>Start from</legend>
              <div className="grid grid-2">
                <label className="choice">
                  <input type="radio" name="start" checked={start === 'latest'} onChange={() => setStart('latest')} />
                  <span>
                    <strong>New events</strong>
                    <span className="muted">Only what happens after the stream is created.</span>
                  </span>
                </label>
                <label className="choice">
                  <input type="radio" name="start" checked={start === 'earliest'} onChange={() => setStart('earliest')} />
                  <span>
                    <strong>Oldest kept event</strong>
                    <span className="muted">Everything still in the event log, then new events.</span>
                  </span>
                </label>
              </div>
            </fieldset>
          ) : null}
        </div>
      </Card>
      <Card title={`${destination.title} destination`} description={destination.description}>
        <SetupGuidePanel destination={destination} values={values} />
        <div className="card-body form">
          <SchemaFields schema={destination.config_schema} values={values} errors={errors} stored={stored} onChange={(k, v) => setValues({ ...values, [k]: v })} />
        </div>
        <div className={failure || test ? 'card-body stack-s' : ''} aria-live="polite">
          {failure ? <Callout tone="danger" title="The server refused the stream">{failure}</Callout> : null}
          {test?.success ? (
            <Callout tone="ok" title="Connection works">
              The destination accepted a test record{test.status_code ? ` (HTTP ${test.status_code})` : ''} in {test.duration_ms} ms.
            </Callout>
          ) : null}
          {testFailed ? (
            <Callout tone="danger" title="Test connection failed" action={<Button onClick={() => void run('pause')} busy={busy === 'pause'}>Save as paused</Button>}>
              {test.error ?? 'The destination refused the test record.'} Fix the settings and test again — or keep the stream paused and fix the destination later.
            </Callout>
          ) : null}
        </div>
        <div className="card-foot">
          <Button icon="refresh" busy={busy === 'test'} disabled={busy !== null} onClick={() => void run('test')}>
            Test connection
          </Button>
          <Button type="submit" variant="primary" busy={busy === 'save'} disabled={busy !== null}>
            {stream ? 'Test and save' : 'Test and create'}
          </Button>
        </div>
      </Card>
    </form>
  );
}
