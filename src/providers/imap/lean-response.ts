import { DQUOTE, LPAREN, Reader, RPAREN, SP, type Value } from './lean-syntax.js';

/**
 * One complete server response (lean-frame.ts) → what it is: an untagged FETCH row with the
 * items the sync asks for, another untagged response, a command completion or a continuation.
 * FETCH items are kept raw here (lean-message.ts turns them into `FetchedMessage`).
 */
export interface FetchRow {
  seq: number;
  uid?: number;
  flags?: Value[];
  envelope?: Value;
  bodyStructure?: Value;
  internalDate?: string;
  /** BODY[HEADER…]: the header block (null for NIL). */
  headers?: Buffer | null;
  /** The first BODY[section] that is not a header block, as imapflow's `bodyParts` first value. */
  body?: Buffer | null;
}

export type Response =
  | { kind: 'fetch'; row: FetchRow }
  | { kind: 'untagged'; name: string; text: string }
  | { kind: 'tagged'; tag: string; status: 'OK' | 'NO' | 'BAD'; text: string }
  | { kind: 'continue'; text: string };

const STAR = 42;
const PLUS = 43;
const LBRACKET = 91;
const RBRACKET = 93;
const LT = 60;
const GT = 62;

export function parseResponse(buf: Buffer): Response {
  const r = new Reader(buf);
  const first = r.peek();
  if (first === PLUS) {
    r.pos++;
    if (r.peek() === SP) r.pos++;
    return { kind: 'continue', text: r.restOfLine() };
  }
  if (first === STAR) {
    r.pos++;
    r.sp();
    const c = r.peek();
    if (c >= 48 && c <= 57) {
      const seq = r.number();
      r.sp();
      const name = r.atom().toUpperCase();
      if (name === 'FETCH') {
        r.sp();
        const row = fetchRow(r, seq);
        r.end();
        return { kind: 'fetch', row };
      }
      return { kind: 'untagged', name, text: `${seq}${r.restOfLine()}` };
    }
    const name = r.atom().toUpperCase();
    if (r.peek() === SP) r.pos++;
    return { kind: 'untagged', name, text: r.restOfLine() };
  }
  const tag = r.atom();
  r.sp();
  const status = r.atom().toUpperCase();
  if (status !== 'OK' && status !== 'NO' && status !== 'BAD') return r.fail('expected OK, NO or BAD after a tag');
  if (r.peek() === SP) r.pos++;
  return { kind: 'tagged', tag, status, text: r.restOfLine() };
}

/** An item name: an atom, with a `[section]` (parentheses and spaces allowed inside) and an `<origin>`. */
function itemName(r: Reader): { name: string; section: string | null } {
  const buf = r.buf;
  const start = r.pos;
  while (r.pos < buf.length && buf[r.pos] !== SP && buf[r.pos] !== LBRACKET && buf[r.pos] !== RPAREN) r.pos++;
  const name = buf.toString('latin1', start, r.pos).toUpperCase();
  if (name.length === 0) r.fail('expected a FETCH item name');
  if (buf[r.pos] !== LBRACKET) return { name, section: null };
  const close = buf.indexOf(RBRACKET, r.pos);
  if (close < 0 || close - r.pos > 1000) r.fail('an unterminated [section]');
  const section = buf.toString('latin1', r.pos + 1, close).toUpperCase();
  r.pos = close + 1;
  if (buf[r.pos] === LT) {
    r.pos++;
    r.digits();
    r.expect(GT, '> closing a partial origin');
  }
  return { name, section };
}

function fetchRow(r: Reader, seq: number): FetchRow {
  const row: FetchRow = { seq };
  r.expect(LPAREN, '( opening the FETCH items');
  if (r.peek() === RPAREN) {
    r.pos++;
    return row;
  }
  for (;;) {
    const { name, section } = itemName(r);
    r.sp();
    if (section !== null) {
      if (name !== 'BODY' && name !== 'BINARY') r.fail(`an unexpected FETCH item ${name}[…]`);
      if (section.startsWith('HEADER')) row.headers = r.nstringBytes(true);
      else if (row.body === undefined) row.body = r.nstringBytes(true);
      else r.nstringBytes(false);
    } else {
      switch (name) {
        case 'UID':
          row.uid = r.number();
          if (row.uid === 0 || row.uid > 0xffffffff) r.fail('a UID out of range');
          break;
        case 'FLAGS': {
          const v = r.value();
          if (!Array.isArray(v)) r.fail('FLAGS is not a list');
          row.flags = v;
          break;
        }
        case 'ENVELOPE':
          row.envelope = r.value();
          break;
        case 'BODYSTRUCTURE':
          row.bodyStructure = r.value();
          break;
        case 'INTERNALDATE':
          if (r.peek() !== DQUOTE) r.fail('INTERNALDATE is not a quoted string');
          row.internalDate = r.quoted();
          break;
        default:
          // MODSEQ, RFC822.SIZE and anything unsolicited: read past it.
          r.value();
      }
    }
    if (r.peek() === RPAREN) {
      r.pos++;
      return row;
    }
    r.sp();
  }
}
