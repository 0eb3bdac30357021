import { sql } from 'kysely';

/** A stream's runner lease and the fencing check every state change of a runner carries. */
export const STREAM_LEASE_PREFIX = 'stream:';
export const streamLease = (streamId: string) => `${STREAM_LEASE_PREFIX}${streamId}`;

export interface Fence {
  holder: string;
  token: string;
}

/** `exists` clause: the caller still holds the stream's lease with this fencing token. */
export const fenced = (streamId: string, f: Fence) =>
  sql<boolean>`exists (select 1 from leases l where l.name = ${streamLease(streamId)} and l.holder = ${f.holder} and l.token = ${f.token})`;
