import libmime from 'libmime';
import { ImapProtocolError } from './lean-frame.js';
import type { FetchRow } from './lean-response.js';
import { present, text, type Value } from './lean-syntax.js';
import type { StructureNode } from './mime.js';
import type { FetchedMessage } from './to-events.js';

/**
 * A raw FETCH row (lean-response.ts) → the `FetchedMessage` the rest of the plug-in reads, with
 * exactly the values imapflow 2.x gives for the fields to-events.ts uses: the same encoded-word
 * decoding (libmime, the library imapflow decodes with), the same treatment of empty and NIL
 * fields, address groups, quoted display names, RFC 2231 parameters and part numbering. Where
 * imapflow relies on a heuristic this module does not reproduce, it throws `NotLeanError` and
 * the chunk goes through imapflow instead.
 */
export class NotLeanError extends ImapProtocolError {
  override name = 'NotLeanError';
}

type Address = { name: string; address: string };
type Envelope = NonNullable<FetchedMessage['envelope']>;

/** Text that contains no encoded word is its own decoding; only the rest goes through libmime. */
function decodeWords(s: string): string {
  // libmime also strips its internal join marker (NUL-delimited) from any input: such text goes to it too.
  return s.includes('=?') || s.includes('\0') ? libmime.decodeWords(s) : s;
}

/** A display name: encoded words decoded, then one pair of surrounding quotes dropped. */
function displayName(s: string): string {
  const v = decodeWords(s);
  return v.length > 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function addresses(list: Value[]): Address[] {
  const out: Address[] = [];
  for (const a of list) {
    if (a === null) continue;
    if (!Array.isArray(a)) throw new NotLeanError('an ENVELOPE address that is not a list');
    const name = displayName(text(a[0]));
    const mailbox = text(a[2]);
    const host = text(a[3]);
    // A NIL host is group syntax (RFC 9051 §7.5.2): the group's name, no address; the group's end has neither.
    const addr: Address = host ? { name, address: `${mailbox}@${host}` } : { name: name || (mailbox && displayName(mailbox)), address: '' };
    if (addr.name || addr.address) out.push(addr);
  }
  return out;
}

function dateOrText(s: string): Date | string {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d;
}

export function envelopeOf(v: Value[]): Envelope {
  const env: Envelope = {};
  if (present(v[0])) env.date = dateOrText(text(v[0]));
  if (present(v[1])) env.subject = decodeWords(text(v[1]));
  const list = (i: number) => {
    const x = v[i];
    return Array.isArray(x) && x.length > 0 ? addresses(x) : undefined;
  };
  const from = list(2);
  if (from) env.from = from;
  const replyTo = list(4);
  if (replyTo) env.replyTo = replyTo;
  const to = list(5);
  if (to) env.to = to;
  const cc = list(6);
  if (cc) env.cc = cc;
  const bcc = list(7);
  if (bcc) env.bcc = bcc;
  if (present(v[8])) env.inReplyTo = text(v[8]).trim();
  if (present(v[9])) env.messageId = text(v[9]).trim();
  return env;
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** `name*`, `name*1`, `name*0*`: an RFC 2231 parameter section. */
const SECTION_KEY = /\*((\d+)\*?)?$/;
/** A plain `filename` that looks like `charset'lang'value`: imapflow guesses at it; we do not. */
// eslint-disable-next-line no-control-regex -- the control-byte ranges are the point of the pattern
const LOOKS_2231 = /^[a-z\-_0-9]+'[a-z]*'[^'\x00-\x08\x0b\x0c\x0e-\x1f\u0080-\uffff]+/;

/**
 * BODYSTRUCTURE parameters (`("charset" "utf-8" "name" "a.pdf")`) → an object of lower-case
 * names, values with encoded words decoded; RFC 2231 sections (`filename*0*=utf-8''%E2…`,
 * `filename*1=…`) joined in order, percent-escapes decoded in the first section's charset.
 */
export function parametersOf(v: Value): Record<string, string> {
  const list = Array.isArray(v) ? v : [v];
  const params: Record<string, string> = {};
  let key = '';
  let sections = false;
  for (let j = 0; j < list.length; j++) {
    if (j % 2 === 0) {
      key = text(list[j]).toLowerCase();
      continue;
    }
    if (UNSAFE_KEYS.has(key)) continue;
    params[key] = decodeWords(text(list[j]));
    if (key.includes('*')) sections = true;
  }
  if (params.filename && !params['filename*'] && LOOKS_2231.test(params.filename)) throw new NotLeanError('a filename parameter that may be RFC 2231-encoded');
  return sections ? joinSections(params) : params;
}

function joinSections(params: Record<string, string>): Record<string, string> {
  const groups = new Map<string, { charset: string | null; values: { nr: number; value: string }[] }>();
  for (const key of Object.keys(params)) {
    const m = SECTION_KEY.exec(key);
    if (!m) continue;
    const base = key.slice(0, m.index).toLowerCase();
    let value = params[key]!;
    delete params[key];
    if (UNSAFE_KEYS.has(base)) continue;
    const nr = Number(m[2]) || 0;
    let g = groups.get(base);
    // A section replaces a plain parameter of the same name.
    if (!g) groups.set(base, (g = { charset: null, values: [] }));
    const initial = nr === 0 && m[0].endsWith('*') ? /^([^']*)'[^']*'(.*)$/.exec(value) : null;
    if (initial) {
      g.charset = initial[1] || 'utf-8';
      value = initial[2]!;
    }
    g.values.push({ nr, value });
  }
  for (const [base, g] of groups) {
    const joined = g.values
      .sort((a, b) => a.nr - b.nr)
      .map((x) => x.value || '')
      .join('');
    params[base] = g.charset ? decodeWords(`=?${g.charset}?Q?${percentToQ(joined)}?=`) : decodeWords(joined);
  }
  return params;
}

/** `%E2%82%AC` → `=E2=82=AC`, after escaping what Q-encoding gives a meaning (`=`, `?`, `_`, spaces). */
function percentToQ(s: string): string {
  return s.replace(/[=?_\s]/g, (c) => (c === ' ' ? '_' : `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).replace(/%/g, '=');
}

const lower = (v: Value | undefined) => text(v).toLowerCase();
const num = (v: Value | undefined) => Number(text(v) || 0) || 0;

/**
 * BODYSTRUCTURE → the node tree: parts numbered "1", "1.2", …; the root of a multipart has no
 * number; a message/rfc822 part's inner structure shares its part number.
 */
export function structureOf(node: Value[], path: number[] = [], depth = 0): StructureNode {
  if (depth > 60) throw new NotLeanError('a BODYSTRUCTURE nested too deep');
  const out: StructureNode = { type: '' };
  if (path.length > 0) out.part = path.join('.');
  let i = 0;
  if (Array.isArray(node[0])) {
    const children: StructureNode[] = [];
    let n = 0;
    while (Array.isArray(node[i])) children.push(structureOf(node[i++] as Value[], [...path, ++n], depth + 1));
    out.childNodes = children;
    out.type = `multipart/${lower(node[i++])}`;
    if (i < node.length) {
      if (node[i] != null) out.parameters = parametersOf(node[i]!);
      i++;
    }
  } else {
    out.type = `${lower(node[i++])}/${lower(node[i++])}`;
    if (node[i] != null) out.parameters = parametersOf(node[i]!);
    i++;
    if (node[i] != null) out.id = text(node[i]);
    i += 2; // id, description
    if (node[i] != null) out.encoding = lower(node[i]);
    i++;
    if (node[i] != null) out.size = num(node[i]);
    i++;
    if (out.type === 'message/rfc822') {
      i++; // the inner message's envelope
      const inner = node[i];
      if (inner != null) {
        if (!Array.isArray(inner)) throw new NotLeanError('a message/rfc822 part whose structure is not a list');
        out.childNodes = [structureOf(inner, path, depth + 1)];
      }
      i += 2; // structure, line count
    }
    if (out.type.startsWith('text/')) {
      // Some servers leave out a text part's line count: then the disposition sits one place early.
      const shifted = node.length === 11 && Array.isArray(node[i + 1]) && !Array.isArray(node[i + 2]);
      if (!shifted) i++;
    }
    if (i < node.length) i++; // MD5
  }
  if (i < node.length) {
    const d = node[i];
    if (Array.isArray(d) && d.length > 0) {
      out.disposition = lower(d[0]);
      if (Array.isArray(d[1])) out.dispositionParameters = parametersOf(d[1]);
    }
  }
  return out;
}

/** The FetchedMessage of a metadata row; a row without a UID is not a message of ours. */
export function fetchedOf(row: FetchRow): FetchedMessage {
  if (row.uid === undefined) throw new ImapProtocolError('a FETCH row without a UID');
  const m: FetchedMessage = { uid: row.uid };
  if (row.flags) {
    const flags = new Set<string>();
    for (const f of row.flags) {
      const s = text(f);
      if (s) flags.add(s);
    }
    m.flags = flags;
  }
  if (Array.isArray(row.envelope)) m.envelope = envelopeOf(row.envelope);
  if (Array.isArray(row.bodyStructure)) m.bodyStructure = structureOf(row.bodyStructure);
  if (row.internalDate !== undefined) m.internalDate = dateOrText(row.internalDate);
  if (row.headers) m.headers = row.headers;
  return m;
}
