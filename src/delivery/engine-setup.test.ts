import { describe, expect, it } from 'vitest';
import { packagesLoadedBy } from '../../test/helpers/resolved-modules.js';

/** The SDKs of destination plug-ins, which a writer of their type loads (ADR 0120). */
const DESTINATION_SDKS = /^(@aws-sdk|@smithy|@google-cloud|google-auth-library|google-gax|@grpc|@duckdb|kafkajs|@nats-io|undici)(\/|$)/;

describe('what a delivery engine loads', () => {
  // The delivery thread (thread-entry.ts) is these two plus the store, the key ring and the logger.
  it('the engine and the destination registry load no destination SDK until a writer of that type is used', async () => {
    const loaded = await packagesLoadedBy(new URL('./engine-setup.ts', import.meta.url), new URL('./registry-catalog.ts', import.meta.url));
    expect(loaded.filter((p) => DESTINATION_SDKS.test(p))).toEqual([]);
    expect(loaded).toContain('@sinclair/typebox');
  }, 60_000);
});
