import { badRequest, GraphError } from './errors.js';
import type { Message } from './mailbox.js';

/**
 * The OData query options of a message list (`GET /me/messages`, `/me/mailFolders/{id}/messages`),
 * parsed and checked the way Graph documents them: `$top` 1–1000 (default 10), `$skip`, `$count`,
 * `$orderby` and `$filter` on the properties below (comparisons joined by `and`/`or`, parentheses),
 * `$select`, `$expand=attachments[($select=…)]`. Anything else is a 400 with Graph's error shape,
 * never silently ignored: a client that relied on an ignored option would pass here and fail on Graph.
 */
export const MAX_TOP = 1000;
export const DEFAULT_TOP = 10;

type Kind = 'date' | 'boolean';
/** Filterable and sortable message properties the sandbox evaluates, with how to read them. */
const PROPERTIES: Record<string, { kind: Kind; read: (m: Message) => number | boolean }> = {
  receivedDateTime: { kind: 'date', read: (m) => Date.parse(m.receivedDateTime) },
  sentDateTime: { kind: 'date', read: (m) => Date.parse(m.sentDateTime) },
  createdDateTime: { kind: 'date', read: (m) => Date.parse(m.createdDateTime) },
  lastModifiedDateTime: { kind: 'date', read: (m) => Date.parse(m.lastModifiedDateTime) },
  isRead: { kind: 'boolean', read: (m) => m.isRead },
  hasAttachments: { kind: 'boolean', read: (m) => m.attachments.some((a) => !a.isInline) },
};

type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
const OPS = new Set<Op>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

type Node = { and: Node[] } | { or: Node[] } | { prop: string; op: Op; value: number | boolean };

export interface ListQuery {
  top: number;
  skip: number;
  count: boolean;
  order?: { prop: string; desc: boolean };
  filter?: (m: Message) => boolean;
  /** Bounds on receivedDateTime every match satisfies (from an `and` chain), to scan a sorted list. */
  received: { min: number; minStrict: boolean; max: number; maxStrict: boolean };
  select?: string[];
  expand?: { attachments: true; select?: string[] };
}

const invalidFilter = (why: string) => badRequest(`Invalid filter clause: ${why}`, 'ErrorInvalidUrlQueryFilter');
const unknownProperty = (name: string) => badRequest(`Could not find a property named '${name}' on type 'microsoft.graph.message'.`);

/** Query options a message list accepts; others (`$search` included: not emulated) answer 400. */
const KNOWN = new Set(['$top', '$skip', '$count', '$orderby', '$filter', '$select', '$expand']);

export function parseListQuery(q: Record<string, string | undefined>): ListQuery {
  for (const k of Object.keys(q)) {
    if (k.startsWith('$') && !KNOWN.has(k.toLowerCase())) throw badRequest(`The query parameter '${k}' is not supported by the sandbox on a message list.`);
  }
  const top = integer(q.$top, '$top', DEFAULT_TOP);
  if (top < 1 || top > MAX_TOP) throw badRequest(`The value of '$top' must be between 1 and ${MAX_TOP}.`);
  const skip = integer(q.$skip, '$skip', 0);
  if (skip < 0) throw badRequest("The value of '$skip' must not be negative.");
  const count = q.$count === undefined ? false : boolean(q.$count, '$count');
  const order = q.$orderby !== undefined ? parseOrderBy(q.$orderby) : undefined;
  const tree = q.$filter !== undefined ? parseFilter(q.$filter) : undefined;
  if (order && tree && firstProperty(tree) !== order.prop) {
    // Outlook's rule: a property in $orderby must also be filtered on, before any other property.
    throw new GraphError(400, 'InefficientFilter', 'The restriction or sort order is too complex for this operation.');
  }
  const out: ListQuery = { top, skip, count, received: receivedBounds(tree) };
  if (order) out.order = order;
  if (tree) out.filter = compile(tree);
  const select = list(q.$select);
  if (select) out.select = select;
  if (q.$expand !== undefined) out.expand = parseExpand(q.$expand);
  return out;
}

function integer(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw badRequest(`The value '${raw}' of '${name}' is not a valid integer.`);
  return Number(raw);
}

function boolean(raw: string, name: string): boolean {
  const v = raw.trim().toLowerCase();
  if (v !== 'true' && v !== 'false') throw badRequest(`The value '${raw}' of '${name}' must be true or false.`);
  return v === 'true';
}

const list = (raw: string | undefined) => {
  const l = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return l.length ? l : undefined;
};

function property(name: string): string {
  const key = Object.keys(PROPERTIES).find((p) => p.toLowerCase() === name.toLowerCase());
  if (!key) throw unknownProperty(name);
  return key;
}

function parseOrderBy(raw: string): { prop: string; desc: boolean } {
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length !== 1) throw badRequest(`The sandbox sorts a message list by one property; got '$orderby=${raw}'.`);
  const m = /^([A-Za-z]+)(?:\s+(asc|desc))?$/i.exec(parts[0]!);
  if (!m?.[1]) throw badRequest(`Syntax error in '$orderby=${raw}'.`);
  const prop = property(m[1]);
  if (PROPERTIES[prop]!.kind !== 'date') throw badRequest(`The sandbox sorts a message list only by a date property; got '${prop}'.`);
  return { prop, desc: m[2]?.toLowerCase() === 'desc' };
}

/** Tokens: parentheses, words (properties, operators, true/false) and DateTimeOffset literals. */
function tokenize(s: string): string[] {
  const out: string[] = [];
  const re = /\s*(\(|\)|[^\s()]+)/y;
  let at = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    out.push(m[1]!);
    at = re.lastIndex;
  }
  if (s.slice(at).trim()) throw invalidFilter(`unexpected '${s.slice(at).trim()}'.`);
  return out;
}

export function parseFilter(raw: string): Node {
  const tokens = tokenize(raw);
  if (tokens.length === 0) throw invalidFilter('the expression is empty.');
  let i = 0;
  const peek = () => tokens[i]?.toLowerCase();
  // `a or b or …` of `c and d and …` of factors: one loop for both levels of precedence.
  const chain = (word: 'or' | 'and', next: () => Node): Node => {
    const parts = [next()];
    while (peek() === word) {
      i++;
      parts.push(next());
    }
    if (parts.length === 1) return parts[0]!;
    return word === 'or' ? { or: parts } : { and: parts };
  };
  const expr = (): Node => chain('or', () => chain('and', factor));
  const factor = (): Node => {
    const t = tokens[i];
    if (t === undefined) throw invalidFilter('the expression ends too early.');
    if (t === '(') {
      i++;
      const inner = expr();
      if (tokens[i] !== ')') throw invalidFilter("a ')' is missing.");
      i++;
      return inner;
    }
    if (/^[A-Za-z]+\(/.test(t) || t.toLowerCase() === 'not') throw invalidFilter(`functions and 'not' are not supported by the sandbox ('${t}').`);
    const prop = property(t);
    const op = tokens[i + 1]?.toLowerCase() as Op | undefined;
    const literal = tokens[i + 2];
    if (!op || !OPS.has(op) || literal === undefined) throw invalidFilter(`expected '${t} eq|ne|gt|ge|lt|le <value>'.`);
    i += 3;
    return { prop, op, value: parseValue(prop, literal) };
  };
  const tree = expr();
  if (i !== tokens.length) throw invalidFilter(`unexpected '${tokens[i]}'.`);
  return tree;
}

function parseValue(prop: string, literal: string): number | boolean {
  if (PROPERTIES[prop]!.kind === 'boolean') {
    const v = literal.toLowerCase();
    if (v !== 'true' && v !== 'false') throw invalidFilter(`'${prop}' compares with true or false, not '${literal}'.`);
    return v === 'true';
  }
  // OData DateTimeOffset literals are unquoted ISO 8601 with a zone.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(literal)) throw invalidFilter(`'${literal}' is not a DateTimeOffset (e.g. 2026-01-31T00:00:00Z).`);
  return Date.parse(literal);
}

function firstProperty(n: Node): string {
  if ('prop' in n) return n.prop;
  const children = 'and' in n ? n.and : n.or;
  return firstProperty(children[0]!);
}

function compile(n: Node): (m: Message) => boolean {
  if ('and' in n) {
    const parts = n.and.map(compile);
    return (m) => parts.every((p) => p(m));
  }
  if ('or' in n) {
    const parts = n.or.map(compile);
    return (m) => parts.some((p) => p(m));
  }
  const read = PROPERTIES[n.prop]!.read;
  const v = n.value;
  switch (n.op) {
    case 'eq':
      return (m) => read(m) === v;
    case 'ne':
      return (m) => read(m) !== v;
    case 'gt':
      return (m) => read(m) > v;
    case 'ge':
      return (m) => read(m) >= v;
    case 'lt':
      return (m) => read(m) < v;
    case 'le':
      return (m) => read(m) <= v;
  }
}

/** The receivedDateTime range an `and` chain (or a single comparison) confines matches to. */
function receivedBounds(tree: Node | undefined): ListQuery['received'] {
  const b = { min: -Infinity, minStrict: false, max: Infinity, maxStrict: false };
  const leaves = !tree ? [] : 'prop' in tree ? [tree] : 'and' in tree ? tree.and.filter((x): x is Extract<Node, { prop: string }> => 'prop' in x) : [];
  for (const l of leaves) {
    if (l.prop !== 'receivedDateTime' || typeof l.value !== 'number') continue;
    if ((l.op === 'ge' || l.op === 'gt' || l.op === 'eq') && (l.value > b.min || (l.value === b.min && l.op === 'gt'))) Object.assign(b, { min: l.value, minStrict: l.op === 'gt' });
    if ((l.op === 'le' || l.op === 'lt' || l.op === 'eq') && (l.value < b.max || (l.value === b.max && l.op === 'lt'))) Object.assign(b, { max: l.value, maxStrict: l.op === 'lt' });
  }
  return b;
}

function parseExpand(raw: string): NonNullable<ListQuery['expand']> {
  const m = /^\s*attachments\s*(?:\(\s*\$select\s*=\s*([^)]*)\))?\s*$/i.exec(raw);
  if (!m) throw badRequest(`The sandbox expands only 'attachments' (optionally 'attachments($select=…)') on a message; got '$expand=${raw}'.`);
  const select = list(m[1]);
  return select ? { attachments: true, select } : { attachments: true };
}

/**
 * The messages of one page. `sorted` is ordered by receivedDateTime ascending (ties in a stable
 * order, as Exchange keeps them); a receivedDateTime bound narrows the scan by binary search and
 * only `skip + top + 1` matches are visited unless `$count` asks for the total.
 */
export function runListQuery(sorted: readonly { at: number; msg: Message }[], q: ListQuery, pick: (m: Message) => boolean): { page: Message[]; total?: number; more: boolean } {
  const { min, minStrict, max, maxStrict } = q.received;
  const lo = lowerBound(sorted, min, minStrict);
  const hi = Math.max(lo, lowerBound(sorted, max, !maxStrict));
  const matches = (m: Message) => pick(m) && (!q.filter || q.filter(m));
  const prop = q.order?.prop ?? 'receivedDateTime';
  if (prop !== 'receivedDateTime') {
    const read = PROPERTIES[prop]!.read;
    const all = sorted.slice(lo, hi).map((x) => x.msg).filter(matches).sort((a, b) => (read(a) as number) - (read(b) as number));
    if (q.order?.desc) all.reverse();
    return { page: all.slice(q.skip, q.skip + q.top), total: all.length, more: q.skip + q.top < all.length };
  }
  const desc = q.order ? q.order.desc : true; // Outlook lists newest first by default
  const page: Message[] = [];
  let seen = 0;
  let more = false;
  for (let k = 0; k < hi - lo; k++) {
    const msg = sorted[desc ? hi - 1 - k : lo + k]!.msg;
    if (!matches(msg)) continue;
    seen++;
    if (seen <= q.skip) continue;
    if (page.length < q.top) page.push(msg);
    else {
      more = true;
      if (!q.count) break;
    }
  }
  return q.count ? { page, total: seen, more } : { page, more };
}

/** First index whose time is ≥ ms (or > ms when strict). */
function lowerBound(sorted: readonly { at: number }[], ms: number, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = sorted[mid]!.at;
    if (at < ms || (strict && at === ms)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
