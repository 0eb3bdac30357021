/** Defaults the config schema (definition.ts) and the writer share, in a module that does not load pg. */
export const DEFAULT_SCHEMA = 'tributary';
