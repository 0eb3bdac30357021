/** Defaults the config schema (definition.ts) and the client share, in a module that does not load kafkajs. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 5;
