/** Defaults the config schema (definition.ts) and the writer share, in a module that does not load the NATS client. */
export const DEFAULT_ACK_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_PENDING = 256;
