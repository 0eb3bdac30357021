/** Defaults the config schema (definition.ts) and the writer share, in a module that loads no SDK. */
export const BIGQUERY_DEFAULTS = { dataset: 'data_streams', location: 'US' };
