import { duckIdent, duckLiteral, type Projection } from '../parquet.js';
import { MESSAGE_MEMBERS, PARTICIPANT_TYPES, type MemberKind, type TableName } from '../tables.js';

/**
 * The SQL half of the s3 Parquet writer's message mapping (ADR 0228): DuckDB builds a
 * `message.created` event's message row and participant rows from the object's JSON text, so
 * the JS thread hands over one text cell per table instead of mapping and setting every cell.
 * The message members it reads, and how, come from tables.ts' MESSAGE_MEMBERS (toRows reads the
 * same list); the event's own cells (ids, grant, times) are set by JS from `messageEventCells`.
 *
 * A file mixes such rows with rows mapped by toRows (events the scan of message-scan.ts did not
 * accept): a row whose object cell is null is taken as it is, so one COPY serves both and the
 * rows keep the events' order. The text must have passed `scanMessage`: only then do DuckDB's
 * JSON functions read it as JSON.parse does.
 */

/** Where a row carries the object's JSON text (an empty string in its body's place; as a string or its UTF-8 bytes) for DuckDB to map. */
export const OBJECT_KEY = '\u0000object';
const OBJECT = '__object';
const PARSED = '__o';

const DUCK_KIND: Record<MemberKind, string> = { str: 'VARCHAR', bool: 'BOOLEAN', json: 'JSON', time: 'BIGINT' };

/** A json_transform structure (as SQL text) for `members`. */
function structure(members: Record<string, unknown>): string {
  return duckLiteral(JSON.stringify(members));
}

const member = (name: string) => `${PARSED}.${duckIdent(name)}`;

/** The message table: each member column is the row's cell, or for a row with an object, the member's value. */
function messageFrom(source: string): string {
  const types: Record<string, string> = { grant_id: 'VARCHAR' };
  for (const m of MESSAGE_MEMBERS) types[m.member] = DUCK_KIND[m.kind];
  const replaced = MESSAGE_MEMBERS.map((m) => {
    // In the source's types: epoch µs for times, plain text for JSON (a JSON-typed column would change the file's schema).
    const value = m.kind === 'time' ? `${member(m.member)} * 1000000` : m.kind === 'json' ? `CAST(${member(m.member)} AS VARCHAR)` : member(m.member);
    return `coalesce(${duckIdent(m.column)}, ${value}) AS ${duckIdent(m.column)}`;
  });
  replaced.push(`coalesce(grant_id, ${member('grant_id')}) AS grant_id`);
  return `(SELECT * REPLACE (${replaced.join(', ')}) FROM (SELECT *, json_transform(${OBJECT}, ${structure(types)}) AS ${PARSED} FROM ${source}))`;
}

/**
 * The participant table: a row without an object is a participant row as toRows made it; a row
 * with one becomes the message's participants, in toRows' order (PARTICIPANT_TYPES, then list
 * order), entries without a non-empty email left out, a repeated (type, email) kept once. The
 * source is read once (a table function's rows can be scanned only once): each row becomes a
 * list of entries, its own cells for a mapped row, and the lists are unnested.
 */
function participantFrom(source: string): string {
  const entry = { name: 'VARCHAR', email: 'VARCHAR' };
  const types: Record<string, unknown> = { id: 'VARCHAR' };
  for (const type of PARTICIPANT_TYPES) types[type] = [entry];
  const fields = (t: number, i: string, messageId: string, type: string, p: string) => `{'t': ${t}, 'i': ${i}, 'message_id': ${messageId}, 'type': ${type}, 'name': ${p}name, 'email': ${p}email}`;
  const lists = PARTICIPANT_TYPES.map((type, t) => `coalesce(list_transform(${member(type)}, (p, i) -> ${fields(t, 'i', member('id'), duckLiteral(type), 'p.')}), [])`);
  const entries = `CASE WHEN ${OBJECT} IS NULL THEN [${fields(0, '0', 'message_id', 'type', '')}] ELSE list_concat(${lists.join(', ')}) END`;
  return (
    `(SELECT __ord, t AS __t, i AS __i, message_id, type, name, email, _synced_at, mapped FROM (` +
    `SELECT __ord, _synced_at, ${OBJECT} IS NULL AS mapped, unnest(${entries}, recursive := true) ` +
    `FROM (SELECT *, json_transform(${OBJECT}, ${structure(types)}) AS ${PARSED} FROM ${source})) ` +
    `WHERE mapped OR (email IS NOT NULL AND email <> '') QUALIFY mapped OR row_number() OVER (PARTITION BY __ord, type, email ORDER BY t, i) = 1)`
  );
}

/** The projections of the tables rows from here may carry an object for (the encoder's `projection` option). */
export const PROJECTIONS: Partial<Record<TableName, Projection>> = {
  message: { extra: [{ name: OBJECT, type: 'text', key: OBJECT_KEY }], from: messageFrom },
  participant: {
    extra: [
      { name: OBJECT, type: 'text', key: OBJECT_KEY },
      { name: '__ord', type: 'integer', key: '', ordinal: true },
    ],
    from: participantFrom,
    orderBy: '__ord, __t, __i',
  },
};
