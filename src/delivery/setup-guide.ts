import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { DestinationDefinition } from '../destinations/destination.js';
import { badRequest } from '../domain/errors.js';
import type { Config } from './destination-config.js';

export interface SetupGuideView {
  title: string;
  description: string | null;
  steps: { title: string; text: string }[];
  language: string | null;
  script: string | null;
}

/**
 * The non-secret part of a form, checked field by field against the destination's schema: the
 * setup script is built from it, so a value that would not be accepted in a stream (an
 * identifier with a quote, a secret) never reaches the script. Unknown or secret fields are a 400.
 */
export function guideValues(def: DestinationDefinition, values: Config): Config {
  const props = (def.configSchema as { properties?: Record<string, TSchema> }).properties ?? {};
  const secret = new Set<string>(def.secretFields);
  const out: Config = {};
  for (const [k, v] of Object.entries(values)) {
    if (secret.has(k)) throw badRequest(`${k} is a secret field of the ${def.type} destination; the setup guide never takes secrets, leave it out`);
    const schema = props[k];
    if (!schema) throw badRequest(`${k} is not a field of the ${def.type} destination; known fields: ${Object.keys(props).join(', ')}`);
    if (v === '' || v === null) continue;
    const first = Value.Errors(schema, v).First();
    if (first) throw badRequest(`${k}: ${first.message} (${def.type} destination)`);
    out[k] = v;
  }
  return out;
}

/** The destination's setup guide as the API shows it, the script rendered for `values` (already checked). */
export function setupGuideView(def: DestinationDefinition, values: Config = {}): SetupGuideView | null {
  const g = def.setupGuide;
  if (!g) return null;
  return {
    title: g.title,
    description: g.description ?? null,
    steps: (g.steps ?? []).map((s) => ({ title: s.title, text: s.text })),
    language: g.language ?? null,
    script: g.script ? g.script(values) : null,
  };
}
