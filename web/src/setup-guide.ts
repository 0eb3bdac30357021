import { isSecret, visibleFields, type RawValues } from './schema-form.js';
import type { JsonSchema } from './types.js';

/**
 * The form values the setup script is rendered for: filled-in, non-secret text fields that
 * already match their pattern. Secrets never leave the form for this, and a half-typed value
 * keeps the last rendered script instead of a refusal on every keystroke.
 */
export function setupGuideValues(schema: JsonSchema, values: RawValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, s] of visibleFields(schema)) {
    const v = values[k];
    if (isSecret(s) || s.type !== 'string' || typeof v !== 'string') continue;
    const t = v.trim();
    if (!t || (s.maxLength !== undefined && t.length > s.maxLength) || (s.pattern && !new RegExp(s.pattern).test(t))) continue;
    out[k] = t;
  }
  return out;
}
