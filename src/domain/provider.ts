/**
 * A source provider's id (`microsoft`, `google`, `imap`, `zoom`, …). Deliberately an open string:
 * the set of providers is whatever src/providers/registry.ts registers, so adding one touches its
 * folder and the registry only. Ids from outside are validated against the registry where they
 * enter (request schemas use `providerIdSchema()`, lookups `getProvider(id)`); ids read back
 * from the database were validated when they were written.
 */
export type ProviderId = string;
