import { useState } from 'react';
import type { JsonSchema } from './types.js';
import { Button, Field } from './ui/basics.js';

/**
 * A form generated from a destination's JSON Schema (GET /v3/destinations): one control per
 * property, required marks, help text from `description`, secrets (writeOnly / x-secret) as
 * password inputs that are never pre-filled. Validation mirrors the schema so that most mistakes
 * are caught before the server sees them; the server still has the last word.
 */
export const SECRET_MASK = '********';
export type RawValues = Record<string, string | boolean>;

/** Bookkeeping fields the server manages (rotation state) are not for people to fill in. */
const isInternal = (name: string, s: JsonSchema) => name.startsWith('previous_') || (s as { readOnly?: boolean }).readOnly === true || (s as { 'x-internal'?: boolean })['x-internal'] === true;
const isSecret = (s: JsonSchema) => s.writeOnly === true || s['x-secret'] === true;
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
    else if (t === 'boolean') out[k] = v === undefined ? s.default === true : v === true;
    else if (t === 'object' || t === 'array') out[k] = v === undefined ? '' : JSON.stringify(v, null, 2);
    else out[k] = v === undefined ? '' : String(v);
  }
  return out;
}

/** Raw form values → a config object, or the first problem per field. */
export function toConfig(schema: JsonSchema, raw: RawValues, stored: Record<string, unknown> | null): { config: Record<string, unknown>; errors: Record<string, string> } {
  const config: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  const required = new Set(schema.required ?? []);
  // Hidden bookkeeping (e.g. the end of a secret rotation's grace period) goes back unchanged;
  // hidden secrets come back masked and the server keeps their stored value.
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    if (isInternal(k, s) && stored?.[k] !== undefined && stored[k] !== SECRET_MASK) config[k] = stored[k];
  }
  for (const [k, s] of visibleFields(schema)) {
    const v = raw[k];
    const t = typeOf(s);
    if (t === 'boolean') {
      config[k] = v === true;
      continue;
    }
    const text = typeof v === 'string' ? v : '';
    if (text.trim() === '') {
      // An empty secret keeps the stored value when editing (the API merges omitted secrets).
      if (isSecret(s) && stored?.[k] === SECRET_MASK) continue;
      if (required.has(k)) errors[k] = 'Required';
      continue;
    }
    if (t === 'integer' || t === 'number') {
      const n = Number(text);
      if (!Number.isFinite(n) || (t === 'integer' && !Number.isInteger(n))) errors[k] = t === 'integer' ? 'A whole number' : 'A number';
      else if (s.minimum !== undefined && n < s.minimum) errors[k] = `At least ${s.minimum}`;
      else if (s.maximum !== undefined && n > s.maximum) errors[k] = `At most ${s.maximum}`;
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
    else if (s.pattern && !safeTest(s.pattern, text)) errors[k] = patternHint(k, s.pattern);
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
}: {
  schema: JsonSchema;
  values: RawValues;
  errors: Record<string, string>;
  stored: Record<string, unknown> | null;
  onChange: (name: string, value: string | boolean) => void;
}) {
  const required = new Set(schema.required ?? []);
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
                      {c}
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
                  <Button small onClick={() => setShown({ ...shown, [k]: !shown[k] })} aria-label={shown[k] ? `Hide ${label(k, s)}` : `Show ${label(k, s)}`}>
                    {shown[k] ? 'Hide' : 'Show'}
                  </Button>
                  {/^secret$|_secret$/.test(k) ? (
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
                  onChange={(e) => onChange(k, e.target.value)}
                  spellCheck={false}
                />
              )
            }
          </Field>
        );
      })}
    </>
  );
}
