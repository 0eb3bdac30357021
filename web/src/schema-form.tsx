import { useState } from 'react';
import type { JsonSchema } from './types.js';
import { Button, Field } from './ui/basics.js';

/**
 * A form generated from a JSON Schema (a destination's config, GET /v3/destinations; a provider's
 * settings or credentials, GET /v3/providers): one control per property, required marks, help
 * text from `description`, secrets (writeOnly / x-secret) as password inputs that are never
 * pre-filled. Validation mirrors the schema so that most mistakes are caught before the server
 * sees them; the server still has the last word. Annotations a plug-in may add:
 * `x-choices` + `x-other` (radio choices with a free-text alternative), `x-errors` (messages for
 * required / pattern / range), `x-unix-date` (unix seconds entered as a date),
 * `x-required-on-create`, `x-labels` (option labels), `x-generate: false`, `x-initial`.
 */
export const SECRET_MASK = '********';
export type RawValues = Record<string, string | boolean>;

/** Bookkeeping fields the server manages (rotation state) are not for people to fill in. */
const isInternal = (name: string, s: JsonSchema) => name.startsWith('previous_') || (s as { readOnly?: boolean }).readOnly === true || (s as { 'x-internal'?: boolean })['x-internal'] === true;
export const isSecret = (s: JsonSchema) => s.writeOnly === true || s['x-secret'] === true;
const OTHER = '__other__';
const otherKey = (k: string) => `${k}__other`;
const choiceValues = (s: JsonSchema) => (s['x-choices'] ?? []).map((c) => c.value);
const toDateText = (unix: unknown) => (typeof unix === 'number' && unix > 0 ? new Date(unix * 1000).toISOString().slice(0, 10) : '');
const typeOf = (s: JsonSchema) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);
const choicesOf = (s: JsonSchema): string[] | null => {
  if (s.enum) return s.enum.map(String);
  if (s.anyOf?.every((a) => a.const !== undefined)) return s.anyOf.map((a) => String(a.const));
  return null;
};

export function visibleFields(schema: JsonSchema): [string, JsonSchema][] {
  return Object.entries(schema.properties ?? {}).filter(([k, s]) => !isInternal(k, s));
}

export function initialValues(schema: JsonSchema, config: Record<string, unknown> | null): RawValues {
  const out: RawValues = {};
  for (const [k, s] of visibleFields(schema)) {
    const v = config?.[k];
    const t = typeOf(s);
    if (isSecret(s)) out[k] = '';
    else if (s['x-unix-date']) out[k] = toDateText(v);
    else if (s['x-choices']) {
      const initial = v ?? s['x-initial'] ?? s.default;
      const known = choiceValues(s).includes(String(initial));
      out[k] = known ? String(initial) : s['x-other'] && initial !== undefined ? OTHER : '';
      out[otherKey(k)] = known || initial === undefined ? '' : String(initial);
    } else if (t === 'boolean') out[k] = v === undefined ? s.default === true : v === true;
    else if (t === 'object' || t === 'array') out[k] = v === undefined ? '' : JSON.stringify(v, null, 2);
    else out[k] = v === undefined ? '' : String(v);
  }
  return out;
}

/** Raw form values → a config object, or the first problem per field. */
export function toConfig(
  schema: JsonSchema,
  raw: RawValues,
  stored: Record<string, unknown> | null,
  opts: { creating?: boolean } = {},
): { config: Record<string, unknown>; errors: Record<string, string> } {
  const config: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  const required = new Set([...(schema.required ?? []), ...(opts.creating ? Object.entries(schema.properties ?? {}).filter(([, s]) => s['x-required-on-create']).map(([k]) => k) : [])]);
  // Hidden bookkeeping (e.g. the end of a secret rotation's grace period) goes back unchanged;
  // hidden secrets come back masked and the server keeps their stored value.
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    if (isInternal(k, s) && stored?.[k] !== undefined && stored[k] !== SECRET_MASK) config[k] = stored[k];
  }
  for (const [k, s] of visibleFields(schema)) {
    const v = raw[k];
    const t = typeOf(s);
    const msg = s['x-errors'] ?? {};
    if (t === 'boolean') {
      config[k] = v === true;
      continue;
    }
    if (s['x-choices'] && v === OTHER && s['x-other']) {
      const other = s['x-other'];
      const text = String(raw[otherKey(k)] ?? '').trim();
      if (!text) errors[k] = other.required ?? 'Required';
      else if (other.pattern && !safeTest(other.pattern, text)) errors[k] = other.invalid ?? patternHint(k, other.pattern);
      else config[k] = text;
      continue;
    }
    const text = typeof v === 'string' ? v : '';
    if (s['x-unix-date'] && text.trim() !== '') {
      const ms = Date.parse(`${text.trim()}T00:00:00Z`);
      if (Number.isNaN(ms)) errors[k] = 'A date';
      else config[k] = Math.floor(ms / 1000);
      continue;
    }
    if (text.trim() === '') {
      // An empty secret keeps the stored value when editing (the API merges omitted secrets).
      if (isSecret(s) && stored?.[k] === SECRET_MASK) continue;
      if (required.has(k)) errors[k] = msg.required ?? 'Required';
      continue;
    }
    if (t === 'integer' || t === 'number') {
      const n = Number(text);
      if (!Number.isFinite(n) || (t === 'integer' && !Number.isInteger(n))) errors[k] = msg.range ?? (t === 'integer' ? 'A whole number' : 'A number');
      else if (s.minimum !== undefined && n < s.minimum) errors[k] = msg.range ?? `At least ${s.minimum}`;
      else if (s.maximum !== undefined && n > s.maximum) errors[k] = msg.range ?? `At most ${s.maximum}`;
      else config[k] = n;
      continue;
    }
    if (t === 'object' || t === 'array') {
      try {
        const parsed: unknown = JSON.parse(text);
        if (t === 'object' && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) errors[k] = 'A JSON object, e.g. {"X-Team": "mail"}';
        else if (t === 'array' && !Array.isArray(parsed)) errors[k] = 'A JSON array';
        else config[k] = parsed;
      } catch {
        errors[k] = 'Not valid JSON';
      }
      continue;
    }
    if (s.minLength !== undefined && text.length < s.minLength) errors[k] = `At least ${s.minLength} characters`;
    else if (s.maxLength !== undefined && text.length > s.maxLength) errors[k] = `At most ${s.maxLength} characters`;
    else if (s.pattern && !safeTest(s.pattern, text)) errors[k] = msg.pattern ?? patternHint(k, s.pattern);
    else config[k] = text;
  }
  return { config, errors };
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true; // a pattern this browser cannot compile is left to the server
  }
}

function patternHint(name: string, pattern: string): string {
  if (pattern.startsWith('^https?://')) return 'A URL starting with https:// (or http:// for private destinations)';
  if (pattern === '^/') return 'An absolute path starting with /';
  return `Does not match the expected format for ${name.replace(/_/g, ' ')}`;
}

const ACRONYMS: Record<string, string> = { url: 'URL', id: 'ID', ids: 'IDs', sql: 'SQL', tls: 'TLS', http: 'HTTP', s3: 'S3' };
const label = (k: string, s: JsonSchema) =>
  s.title ??
  k
    .split('_')
    .map((w, i) => ACRONYMS[w] ?? (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join(' ');

function randomSecret(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function SchemaFields({
  schema,
  values,
  errors,
  stored,
  onChange,
  creating = false,
  placeholders = {},
}: {
  schema: JsonSchema;
  values: RawValues;
  errors: Record<string, string>;
  stored: Record<string, unknown> | null;
  onChange: (name: string, value: string | boolean) => void;
  creating?: boolean;
  /** Placeholders that depend on the page (e.g. the email typed above). */
  placeholders?: Record<string, string>;
}) {
  const required = new Set([...(schema.required ?? []), ...(creating ? Object.entries(schema.properties ?? {}).filter(([, s]) => s['x-required-on-create']).map(([k]) => k) : [])]);
  const [shown, setShown] = useState<Record<string, boolean>>({});
  return (
    <>
      {visibleFields(schema).map(([k, s]) => {
        const t = typeOf(s);
        const choices = choicesOf(s);
        const secret = isSecret(s);
        const storedSecret = secret && stored?.[k] === SECRET_MASK;
        const hint = [s.description, secret && storedSecret ? 'Leave empty to keep the stored value.' : secret && !/sealed/i.test(s.description ?? '') ? 'Stored sealed and never shown again.' : null, s.default !== undefined && t !== 'boolean' ? `Default: ${String(s.default)}.` : null]
          .filter(Boolean)
          .join(' ');
        if (s['x-choices']) return <ChoiceField key={k} name={k} schema={s} values={values} error={errors[k]} onChange={onChange} />;
        if (s['x-unix-date']) {
          return (
            <Field key={k} label={label(k, s)} hint={s.description} error={errors[k]}>
              {(p) => <input {...p} name={k} className="input" type="date" value={String(values[k] ?? '')} onChange={(e) => onChange(k, e.target.value)} />}
            </Field>
          );
        }
        if (t === 'boolean') {
          return (
            <label key={k} className="choice">
              <input type="checkbox" name={k} checked={values[k] === true} onChange={(e) => onChange(k, e.target.checked)} />
              <span>
                <strong>{label(k, s)}</strong>
                {s.description ? <span className="muted">{s.description}</span> : null}
              </span>
            </label>
          );
        }
        return (
          <Field key={k} label={label(k, s)} hint={hint || undefined} error={errors[k]} required={required.has(k) && !storedSecret}>
            {(p) =>
              choices ? (
                <select {...p} name={k} className="select" value={String(values[k] ?? '')} onChange={(e) => onChange(k, e.target.value)}>
                  <option value="">{s.default !== undefined ? `Default (${String(s.default)})` : 'Choose…'}</option>
                  {choices.map((c) => (
                    <option key={c} value={c}>
                      {s['x-labels']?.[c] ?? c}
                    </option>
                  ))}
                </select>
              ) : t === 'object' || t === 'array' ? (
                <textarea {...p} name={k} className="textarea" value={String(values[k] ?? '')} onChange={(e) => onChange(k, e.target.value)} placeholder={t === 'object' ? '{ }' : '[ ]'} spellCheck={false} />
              ) : secret ? (
                <div className="input-group">
                  <input
                    {...p}
                    name={k}
                    className="input mono"
                    type={shown[k] ? 'text' : 'password'}
                    autoComplete="new-password"
                    value={String(values[k] ?? '')}
                    placeholder={storedSecret ? '•••••••• (stored)' : ''}
                    onChange={(e) => onChange(k, e.target.value)}
                  />
                  <Button small onClick={() => setShown({ ...shown, [k]: !shown[k] })} title={shown[k] ? `Hide ${label(k, s)}` : `Show ${label(k, s)}`} aria-pressed={shown[k] === true}>
                    {shown[k] ? 'Hide' : 'Show'}
                  </Button>
                  {/^secret$|_secret$/.test(k) && s['x-generate'] !== false ? (
                    <Button small onClick={() => (onChange(k, randomSecret()), setShown({ ...shown, [k]: true }))}>
                      Generate
                    </Button>
                  ) : null}
                </div>
              ) : (
                <input
                  {...p}
                  name={k}
                  className={`input ${t === 'string' && /url|path|root|connection/.test(k) ? 'mono' : ''}`}
                  inputMode={t === 'integer' || t === 'number' ? 'numeric' : undefined}
                  value={String(values[k] ?? '')}
                  placeholder={placeholders[k] ?? (s.examples?.[0] !== undefined ? String(s.examples[0]) : undefined)}
                  onChange={(e) => onChange(k, e.target.value)}
                  spellCheck={false}
                  autoComplete="off"
                />
              )
            }
          </Field>
        );
      })}
    </>
  );
}

/** Radio choices (`x-choices`) with an optional free-text alternative (`x-other`) that appears when picked. */
function ChoiceField({ name, schema: s, values, error, onChange }: { name: string; schema: JsonSchema; values: RawValues; error: string | undefined; onChange: (name: string, value: string | boolean) => void }) {
  const other = s['x-other'];
  const options = [...(s['x-choices'] ?? []), ...(other ? [{ value: OTHER, title: other.title, description: other.description }] : [])];
  return (
    <>
      <fieldset>
        <legend>{label(name, s)}</legend>
        <div className="stack-s">
          {options.map((c) => (
            <label key={c.value} className="choice">
              <input type="radio" name={name} value={c.value} checked={values[name] === c.value} onChange={() => onChange(name, c.value)} />
              <span>
                <strong>{c.title}</strong>
                {c.description ? <span className="muted">{c.description}</span> : null}
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      {other && values[name] === OTHER ? (
        <Field label={other.label} hint={other.hint} error={error} required>
          {(p) => <input {...p} className="input mono" value={String(values[otherKey(name)] ?? '')} placeholder={other.placeholder} onChange={(e) => onChange(otherKey(name), e.target.value)} />}
        </Field>
      ) : error ? (
        <span className="field-error">{error}</span>
      ) : null}
    </>
  );
}
