import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { Sealer } from '../crypto/sealing.js';
import type { DestinationDefinition } from '../destinations/destination.js';
import { badRequest } from '../domain/errors.js';
import type { DestinationCatalog } from './catalog.js';

/**
 * A stream's destination config at rest and on the wire: validated against the plug-in's
 * TypeBox schema, secret fields sealed in one column (bound to the stream id), and shown masked.
 */
export const SECRET_MASK = '********';
export const destinationSecretsAad = (streamId: string) => `streams.destination_secrets:${streamId}`;

export type Config = Record<string, unknown>;

const checks = new WeakMap<TSchema, TypeCheck<TSchema>>();
function checkerFor(schema: TSchema): TypeCheck<TSchema> {
  let c = checks.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    checks.set(schema, c);
  }
  return c;
}

export function definitionOf(catalog: DestinationCatalog, type: string): DestinationDefinition {
  const def = catalog.get(type);
  if (!def) {
    const known = catalog.list().map((d) => d.type);
    throw badRequest(`destination.type "${type}" is not a known destination; known types: ${known.join(', ') || '(none installed)'}`);
  }
  return def;
}

/** Throws a 400 naming the first field that does not match the destination's schema. */
export function validateConfig(def: DestinationDefinition, config: Config): void {
  const first = checkerFor(def.configSchema).Errors(config).First();
  if (!first) return;
  const path = first.path ? first.path.replace(/^\//, '').replace(/\//g, '.') : '';
  throw badRequest(`destination.config${path ? `.${path}` : ''}: ${first.message} (${def.type} destination)`);
}

export function splitSecrets(def: DestinationDefinition, config: Config): { plain: Config; secrets: Config } {
  const plain: Config = {};
  const secrets: Config = {};
  const secret = new Set<string>(def.secretFields);
  for (const [k, v] of Object.entries(config)) (secret.has(k) ? secrets : plain)[k] = v;
  return { plain, secrets };
}

export function sealSecrets(sealer: Sealer, streamId: string, secrets: Config): string | null {
  return Object.keys(secrets).length ? sealer.seal(JSON.stringify(secrets), destinationSecretsAad(streamId)) : null;
}

export function openSecrets(sealer: Sealer, streamId: string, sealed: string | null): Config {
  return sealed ? (JSON.parse(sealer.open(sealed, destinationSecretsAad(streamId))) as Config) : {};
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The config as the API shows it: secret fields that are set appear as the mask; a secret field
 * that is a map (webhook headers) keeps its keys and masks every value.
 */
export function maskedConfig(def: DestinationDefinition | undefined, plain: Config, hasSecrets: Config): Config {
  const out: Config = { ...plain };
  for (const f of def?.secretFields ?? Object.keys(hasSecrets)) {
    // A row written before the field became secret holds it in the plain part: masked all the same.
    const v = hasSecrets[f] ?? plain[f];
    if (v === undefined) continue;
    out[f] = isMap(v) ? Object.fromEntries(Object.keys(v).map((k) => [k, SECRET_MASK])) : SECRET_MASK;
  }
  return out;
}

/**
 * A config update: a secret field that is omitted, or sent back as the mask, keeps its stored
 * value, so a client can round-trip what GET returned without re-entering secrets.
 */
export function mergeForUpdate(def: DestinationDefinition, previous: Config, update: Config): Config {
  const merged: Config = { ...update };
  for (const f of def.secretFields) {
    const before = previous[f];
    if ((merged[f] === undefined || merged[f] === SECRET_MASK) && before !== undefined) merged[f] = before;
    else if (isMap(merged[f]) && isMap(before)) {
      // A map sent back as shown: masked values keep their stored value, new keys are taken as given.
      merged[f] = Object.fromEntries(Object.entries(merged[f]).map(([k, v]) => [k, v === SECRET_MASK && before[k] !== undefined ? before[k] : v]));
    }
  }
  return merged;
}

/** JSON schema of a destination's config for the catalog (dashboard forms): secret fields are marked write-only. */
export function catalogSchema(def: DestinationDefinition): Record<string, unknown> {
  const schema = JSON.parse(JSON.stringify(def.configSchema)) as { properties?: Record<string, Record<string, unknown>> };
  for (const f of def.secretFields) {
    const prop = schema.properties?.[f];
    if (prop) schema.properties![f] = { ...prop, writeOnly: true, 'x-secret': true };
  }
  return schema as Record<string, unknown>;
}
