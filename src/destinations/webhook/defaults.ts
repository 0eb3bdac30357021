// Defaults the config schema (definition.ts) and the writer share, in a module that does not load the HTTP client.

/**
 * 32, not 8 (ADR 0117): on a thread that is busy with other work (mailbox sync shares the
 * worker's main thread) a lane advances by about this many events per turn of the event loop, and
 * on a loaded machine a round trip is scheduler latency, so depth, not the receiver, bounds a grant.
 */
export const DEFAULT_PIPELINING = 32;
export const DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;
