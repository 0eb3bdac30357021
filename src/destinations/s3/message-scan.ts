import { MESSAGE_MEMBERS, PARTICIPANT_TYPES, type MemberKind } from '../tables.js';

/**
 * Decides, without parsing it into objects, whether a `message.created` object's JSON text is
 * one that DuckDB's JSON functions map to exactly the rows JSON.parse + toRows give (ADR 0228),
 * and where its body's string literal is. Anything it is not sure of makes it answer null, and
 * the event takes the ordinary path; being conservative costs only speed.
 *
 * The two parsers agree on a text when, outside the body's literal:
 *   - strings hold no escape (`\`), no raw control character and no lone surrogate: then both
 *     read the characters as written, and JSON.stringify writes them back unescaped as DuckDB
 *     does (a lone surrogate would be `\udXXX` in one and U+FFFD in the other);
 *   - numbers are plain integers of at most 15 digits (no fraction, exponent or `-0`): both
 *     print them alike (`2.0`, `1e3`, `-0` and integers beyond 2^53 print differently);
 *   - no object repeats a key (JSON.parse keeps the last, DuckDB the first);
 *   - the members toRows reads have the types it maps without conversion: `str` members are
 *     strings or null (a number would be spelled by String() in JS), `bool` members true, false
 *     or null, the `time` member an integer date within Date's range or null, participant lists
 *     null or arrays of objects (or nulls) whose name and email are strings or null;
 *   - the event would not be rejected: `id` is a non-empty string (an empty one maps but gives
 *     no participants, left to the ordinary path), and the body is a string literal without a
 *     `\u` escape (DuckDB refuses lone surrogates that JSON.parse turns into U+FFFD, ADR 0227).
 * The body's literal is skipped with indexOf, not walked: it is most of the text and DuckDB
 * unescapes it; the rest (a few hundred characters) is walked once, character by character.
 */
export interface ScannedMessage {
  /** Where the body member's string literal starts (its opening quote) and ends (past its closing quote). */
  bodyStart: number;
  bodyEnd: number;
  /** Whether the object has a string `grant_id` (needed when the event has none). */
  grantId: boolean;
  /** Whether some participant has a non-empty string email, i.e. the message has participant rows. */
  participants: boolean;
}

type Rule = MemberKind | 'id' | 'participants' | 'body';

/** The top-level members toRows reads for a message, with what each must be for the SQL mapping. */
const RULES = new Map<string, Rule>([...MESSAGE_MEMBERS.map((m) => [m.member, m.kind] as const), ['grant_id', 'str'], ['body', 'body']]);
for (const type of PARTICIPANT_TYPES) RULES.set(type, 'participants'); // `from` is also a json column: a participant list is valid JSON too
RULES.set('id', 'id');

const enum T {
  Fail,
  String,
  Number,
  True,
  False,
  Null,
  Array,
  Object,
}

/** Date's range in seconds (±8.64e15 ms): a date beyond it is an invalid Date in JS. */
const MAX_SECONDS = 8.64e12;
const MAX_DEPTH = 64;

// The scan's state: the text and the position in it (module-level: the scan is synchronous).
let text = '';
let pos = 0;
/** The last number scanned (for the date's range) and the last string's length. */
let number = 0;
let stringLength = 0;
let participants = false;
let hasId = false;
let hasGrantId = false;
let bodyStart = -1;
let bodyEnd = -1;

function space(): void {
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return;
    pos += 1;
  }
}

/** The usual string: no escape, control character or surrogate before its closing quote (one native match). */
// eslint-disable-next-line no-control-regex -- the class excludes raw control characters on purpose
const PLAIN_STRING = /[^"\\\u0000-\u001f\ud800-\udfff]*"/y;

/** A string at `pos` (its quote) under the rules above; leaves `pos` past it. */
function string(): boolean {
  const start = (pos += 1);
  PLAIN_STRING.lastIndex = start;
  if (PLAIN_STRING.test(text)) {
    pos = PLAIN_STRING.lastIndex;
    stringLength = pos - 1 - start;
    return true;
  }
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c === 34) break;
    if (c === 92 || c < 32 || Number.isNaN(c)) return false;
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(pos + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
      pos += 1;
    }
    pos += 1;
  }
  stringLength = pos - start;
  pos += 1;
  return true;
}

function integer(): boolean {
  const start = pos;
  if (text.charCodeAt(pos) === 45) pos += 1; // -
  const first = pos;
  while (text.charCodeAt(pos) >= 48 && text.charCodeAt(pos) <= 57) pos += 1;
  const digits = pos - first;
  if (digits === 0 || digits > 15 || (digits > 1 && text.charCodeAt(first) === 48)) return false;
  const c = text.charCodeAt(pos);
  if (c === 46 || c === 101 || c === 69) return false; // . e E
  number = Number(text.slice(start, pos));
  return !Object.is(number, -0);
}

function literal(word: string, type: T): T {
  if (!text.startsWith(word, pos)) return T.Fail;
  pos += word.length;
  return type;
}

/** Whose members an object holds: the message's, a participant's, or anything's (checked as JSON only). */
const enum Kind {
  Message,
  Participant,
  Any,
}

/** The members of an object at `pos` (its brace), each value checked as its kind's members are. */
function object(kind: Kind, depth: number): boolean {
  if (opensEmpty(125)) return true;
  const keys: string[] = [];
  for (;;) {
    if (text.charCodeAt(pos) !== 34) return false;
    const keyStart = pos + 1;
    if (!string()) return false;
    const key = text.slice(keyStart, pos - 1);
    if (keys.includes(key)) return false;
    keys.push(key);
    space();
    if (text.charCodeAt(pos) !== 58) return false; // :
    pos += 1;
    space();
    const ok = kind === Kind.Message ? messageMember(key) : kind === Kind.Participant ? participantMember(key, depth) : value(depth + 1) !== T.Fail;
    if (!ok) return false;
    const more = separator(125);
    if (more !== true) return more === false;
  }
}

/** Past the opening brace or bracket at `pos`; whether the container closes (`close`) at once. */
function opensEmpty(close: number): boolean {
  pos += 1;
  space();
  if (text.charCodeAt(pos) !== close) return false;
  pos += 1;
  return true;
}

/** After a member or element: true past a comma (more follow), false past `close`, null for anything else. */
function separator(close: number): boolean | null {
  space();
  const c = text.charCodeAt(pos);
  pos += 1;
  if (c === close) return false;
  if (c !== 44) return null;
  space();
  return true;
}

/** Any JSON value at `pos` under the rules above; its type, or T.Fail. */
function value(depth: number): T {
  if (depth > MAX_DEPTH) return T.Fail;
  const c = text.charCodeAt(pos);
  if (c === 34) return string() ? T.String : T.Fail;
  if (c === 123) return object(Kind.Any, depth) ? T.Object : T.Fail;
  if (c === 91) return array(Kind.Any, depth) ? T.Array : T.Fail;
  if (c === 116) return literal('true', T.True);
  if (c === 102) return literal('false', T.False);
  if (c === 110) return literal('null', T.Null);
  return integer() ? T.Number : T.Fail;
}

/** An array at `pos` (its bracket): of participant entries, or of any values. */
function array(kind: Kind, depth: number): boolean {
  if (opensEmpty(93)) return true;
  for (;;) {
    if (!(kind === Kind.Participant ? participant(depth + 1) : value(depth + 1) !== T.Fail)) return false;
    const more = separator(93);
    if (more !== true) return more === false;
  }
}

/** A participant entry: null, or an object whose name and email are strings or null. */
function participant(depth: number): boolean {
  const c = text.charCodeAt(pos);
  if (c === 110) return literal('null', T.Null) !== T.Fail;
  return c === 123 && object(Kind.Participant, depth);
}

function participantMember(key: string, depth: number): boolean {
  const t = value(depth + 1);
  if (key !== 'name' && key !== 'email') return t !== T.Fail;
  if (t === T.String && key === 'email' && stringLength > 0) participants = true;
  return t === T.String || t === T.Null;
}

/** A member of the message object: its value under its rule, noting the body, id and grant. */
function messageMember(key: string): boolean {
  const start = pos;
  if (!member(RULES.get(key))) return false;
  if (key === 'id') hasId = true;
  else if (key === 'grant_id') hasGrantId = text.charCodeAt(start) === 34;
  return true;
}

/** A top-level member's value under its rule. */
function member(rule: Rule | undefined): boolean {
  if (rule === 'body') {
    if (text.charCodeAt(pos) !== 34) return false;
    const end = endOfLiteral(pos);
    if (end < 0 || text.lastIndexOf('\\u', end) >= pos) return false;
    bodyStart = pos;
    bodyEnd = pos = end;
    return true;
  }
  if (rule === 'participants') {
    if (text.charCodeAt(pos) === 110) return literal('null', T.Null) !== T.Fail;
    return text.charCodeAt(pos) === 91 && array(Kind.Participant, 1);
  }
  const t = value(1);
  switch (rule) {
    case undefined:
    case 'json':
      return t !== T.Fail;
    case 'id':
      return t === T.String && stringLength > 0;
    case 'str':
      return t === T.String || t === T.Null;
    case 'bool':
      return t === T.True || t === T.False || t === T.Null;
    case 'time':
      return t === T.Null || (t === T.Number && Math.abs(number) <= MAX_SECONDS);
  }
}

/** The index past the string literal starting at `i` (escapes skipped, not checked), or -1. */
function endOfLiteral(i: number): number {
  let from = i + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === 92) slashes += 1;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** The scan of a message object's text (see above), or null when it must take the ordinary path. */
export function scanMessage(json: string): ScannedMessage | null {
  text = json;
  pos = 0;
  participants = false;
  hasId = false;
  hasGrantId = false;
  bodyStart = -1;
  bodyEnd = -1;
  try {
    space();
    if (text.charCodeAt(pos) !== 123) return null;
    const ok = object(Kind.Message, 0);
    space();
    if (!ok || pos !== text.length || bodyStart < 0 || !hasId) return null;
    return { bodyStart, bodyEnd, grantId: hasGrantId, participants };
  } finally {
    text = '';
  }
}
