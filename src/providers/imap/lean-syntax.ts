import { ImapProtocolError } from './lean-frame.js';

/**
 * RFC 3501 syntax over one complete response (see lean-frame.ts): atoms, numbers, quoted
 * strings with their two escapes, literals (`{n}`, `~{n}`), NIL and nested lists. Strict on
 * purpose: whatever is not exactly that grammar is an `ImapProtocolError`, because the caller
 * then hands the chunk to imapflow, so strictness can cost speed but never change an event.
 *
 * Values: NIL → null, atom or quoted string → string, literal → Buffer, list → array. Quoted
 * strings and literals hold bytes; text is their UTF-8 decoding (what imapflow gives).
 */
export type Value = null | string | Buffer | Value[];

/** Byte values of the syntax's delimiters. */
export const SP = 32;
export const DQUOTE = 34;
const BACKSLASH = 92;
export const LPAREN = 40;
export const RPAREN = 41;
const LBRACE = 123;
const TILDE = 126;
const CR = 13;

/** Lists nest at most this deep (a BODYSTRUCTURE of 40 nested multiparts is ~80). */
const MAX_DEPTH = 100;

/** Bytes that end an atom. */
function endsAtom(c: number): boolean {
  return c === SP || c === RPAREN || c === LPAREN || c === CR;
}

/** Bytes an atom (or flag) may not contain: controls, 8-bit, quote, brace, and the list specials. */
function badAtomByte(c: number): boolean {
  return c < 0x21 || c > 0x7e || c === DQUOTE || c === LBRACE || c === 0x25 /* % */;
}

export class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start;
  }

  fail(what: string): never {
    const near = this.buf.toString('latin1', Math.max(0, this.pos - 20), Math.min(this.buf.length, this.pos + 20)).replace(/[^\x20-\x7e]/g, '.');
    throw new ImapProtocolError(`unexpected response syntax: ${what} at byte ${this.pos} (near "${near}")`);
  }

  peek(): number {
    return this.pos < this.buf.length ? this.buf[this.pos]! : -1;
  }

  expect(c: number, what: string): void {
    if (this.buf[this.pos] !== c) this.fail(`expected ${what}`);
    this.pos++;
  }

  sp(): void {
    this.expect(SP, 'a space');
  }

  /** The rest of the line (text after a status or an untagged keyword). */
  restOfLine(): string {
    const end = this.buf.indexOf(CR, this.pos);
    const s = this.buf.toString('utf8', this.pos, end < 0 ? this.buf.length : end);
    this.pos = end < 0 ? this.buf.length : end;
    return s;
  }

  /** `\r\n` ending the response. */
  end(): void {
    if (this.buf[this.pos] !== CR || this.buf[this.pos + 1] !== 10 || this.pos + 2 !== this.buf.length) this.fail('expected the end of the response');
    this.pos += 2;
  }

  atom(): string {
    const start = this.pos;
    const buf = this.buf;
    while (this.pos < buf.length && !endsAtom(buf[this.pos]!)) {
      if (badAtomByte(buf[this.pos]!)) this.fail('a byte not allowed in an atom');
      this.pos++;
    }
    if (this.pos === start) this.fail('expected an atom');
    return buf.toString('latin1', start, this.pos);
  }

  /** An unsigned decimal of at most `maxDigits` digits, ending where an atom ends. */
  number(maxDigits = 10): number {
    const n = this.digits(maxDigits);
    if (this.pos < this.buf.length && !endsAtom(this.buf[this.pos]!)) this.fail('expected a number');
    return n;
  }

  /** Decimal digits (at least one, at most `maxDigits`). */
  digits(maxDigits = 10): number {
    const start = this.pos;
    let n = 0;
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos]!;
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      this.pos++;
    }
    const digits = this.pos - start;
    if (digits === 0 || digits > maxDigits) this.fail('expected a number');
    return n;
  }

  /** A quoted string's content, decoded as UTF-8. */
  quoted(): string {
    const buf = this.buf;
    this.expect(DQUOTE, 'a quoted string');
    const start = this.pos;
    let ascii = true;
    for (;;) {
      if (this.pos >= buf.length) this.fail('an unterminated quoted string');
      const c = buf[this.pos]!;
      if (c === DQUOTE) break;
      if (c === BACKSLASH) return this.quotedEscaped(start);
      if (c === CR || c === 10 || c === 0) this.fail('a line break or NUL in a quoted string');
      if (c > 0x7f) ascii = false;
      this.pos++;
    }
    const s = ascii ? buf.toString('latin1', start, this.pos) : buf.toString('utf8', start, this.pos);
    this.pos++;
    return s;
  }

  /** Slow path of quoted(): a string with escapes (only `\\` and `\"` exist). */
  private quotedEscaped(start: number): string {
    const buf = this.buf;
    const bytes: number[] = [];
    for (let i = start; i < this.pos; i++) bytes.push(buf[i]!);
    for (;;) {
      if (this.pos >= buf.length) this.fail('an unterminated quoted string');
      const c = buf[this.pos]!;
      if (c === DQUOTE) break;
      if (c === CR || c === 10 || c === 0) this.fail('a line break or NUL in a quoted string');
      if (c === BACKSLASH) {
        const next = buf[this.pos + 1];
        if (next !== BACKSLASH && next !== DQUOTE) this.fail('an escape other than \\\\ or \\" in a quoted string');
        bytes.push(next);
        this.pos += 2;
        continue;
      }
      bytes.push(c);
      this.pos++;
    }
    this.pos++;
    return Buffer.from(bytes).toString('utf8');
  }

  /** `{n}\r\n` + n bytes (or `~{n}`): a view of the bytes, copied only by callers that keep them. */
  literal(): Buffer {
    if (this.peek() === TILDE) this.pos++;
    this.expect(LBRACE, 'a literal');
    const n = this.digits();
    if (this.peek() === 43 /* + */) this.pos++;
    this.expect(125, '} closing a literal size');
    this.expect(CR, 'CRLF after a literal size');
    this.expect(10, 'CRLF after a literal size');
    if (this.pos + n > this.buf.length) this.fail('a literal longer than the response');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** An nstring: NIL, a quoted string (its UTF-8 bytes) or a literal; `copy` detaches a literal from the socket buffer. */
  nstringBytes(copy: boolean): Buffer | null {
    const c = this.peek();
    if (c === DQUOTE) return Buffer.from(this.quoted(), 'utf8');
    if (c === LBRACE || c === TILDE) {
      const b = this.literal();
      return copy ? Buffer.from(b) : b;
    }
    if (this.atom().toUpperCase() !== 'NIL') this.fail('expected NIL, a string or a literal');
    return null;
  }

  /** Any value: NIL, atom, quoted string, literal or a (nested) list. */
  value(depth = 0): Value {
    const c = this.peek();
    if (c === LPAREN) return this.list(depth + 1);
    if (c === DQUOTE) return this.quoted();
    if (c === LBRACE || c === TILDE) return this.literal();
    const a = this.atom();
    return a.length === 3 && a.toUpperCase() === 'NIL' ? null : a;
  }

  list(depth: number): Value[] {
    if (depth > MAX_DEPTH) this.fail(`lists nested deeper than ${MAX_DEPTH}`);
    this.expect(LPAREN, '(');
    const out: Value[] = [];
    if (this.peek() === RPAREN) {
      this.pos++;
      return out;
    }
    for (;;) {
      const v = this.value(depth);
      out.push(v);
      const c = this.peek();
      if (c === RPAREN) {
        this.pos++;
        return out;
      }
      // A multipart's parts follow each other with no space between them (RFC 3501 body-type-mpart).
      if (c === LPAREN && Array.isArray(v)) continue;
      this.sp();
    }
  }
}

/** What imapflow reads as a value's text: a string as is, a literal as UTF-8, anything else nothing. */
export function text(v: Value | undefined): string {
  if (typeof v === 'string') return v;
  if (v instanceof Buffer) return v.toString('utf8');
  return '';
}

/**
 * Whether imapflow sees a value here: a literal always (even an empty one), a string when not
 * empty. NIL, a missing value and a list do not count.
 */
export function present(v: Value | undefined): boolean {
  if (typeof v === 'string') return v !== '';
  return v instanceof Buffer;
}
