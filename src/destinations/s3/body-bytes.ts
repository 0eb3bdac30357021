import { isUtf8 } from 'node:buffer';

/**
 * Finds a `message.created` object's body literal in the object's UTF-8 bytes (as a reader that
 * skips the driver's decoding hands them over), so the body goes to DuckDB as bytes and never
 * becomes a JS string (ADR 0229): only the text around it is decoded, a few hundred bytes, and
 * that text too reaches DuckDB as the bytes it was decoded from (ADR 0232).
 *
 * The search is a shortcut, not a parse: it takes the first `"body"` key (an unescaped quote,
 * then `:`) followed by a string. In the log's text that is the top-level member: the appender's
 * `JSON.stringify` text (ADR 0006) and, for rows older than it, jsonb's print (keys by length)
 * both put no object with such a key before it. Nothing relies on that for correctness: the
 * caller must confirm it with `scanMessage` over `rest` decoded, which walks the whole remaining
 * structure and only accepts when its top-level body is exactly at `at` (else the text path).
 */
export interface BodyBytes {
  /**
   * The object's bytes with `""` in the body literal's place (a few hundred bytes, valid UTF-8):
   * decoded for the scan, and handed to DuckDB as they are for its half of the mapping.
   */
  rest: Buffer;
  /** The byte offset of that `""` in `rest`. */
  at: number;
  /** The literal's bytes, quotes included: JSON that DuckDB unescapes. */
  literal: Uint8Array;
}

const EMPTY_STRING = Buffer.from('""');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

function escaped(b: Buffer, quote: number): boolean {
  let slashes = 0;
  while (quote - 1 - slashes >= 0 && b[quote - 1 - slashes] === BACKSLASH) slashes += 1;
  return slashes % 2 === 1;
}

function skipSpace(b: Buffer, i: number): number {
  while (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09) i += 1;
  return i;
}

/**
 * The body literal and the text around it; null when there is none to hand over as bytes: no
 * string body, a `\u` escape in it (the string path refuses those too, ADR 0227), or bytes that
 * are not UTF-8 (decoded, they would hold U+FFFD where DuckDB's decode() fails: the ordinary
 * path decodes them as the driver does).
 */
export function bodyBytes(bytes: Uint8Array): BodyBytes | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isUtf8(b)) return null;
  let from = 0;
  for (;;) {
    const key = b.indexOf('"body"', from, 'latin1');
    if (key < 0) return null;
    from = key + 1;
    if (escaped(b, key)) continue; // inside a string
    const colon = skipSpace(b, key + 6);
    if (b[colon] !== COLON) continue; // a string value "body", not a key
    const start = skipSpace(b, colon + 1);
    if (b[start] !== QUOTE) return null;
    let end = start + 1;
    for (;;) {
      end = b.indexOf(QUOTE, end);
      if (end < 0) return null;
      if (!escaped(b, end)) break;
      end += 1;
    }
    end += 1;
    const u = b.indexOf('\\u', start, 'latin1');
    if (u >= 0 && u < end) return null;
    return { rest: Buffer.concat([b.subarray(0, start), EMPTY_STRING, b.subarray(end)]), at: start, literal: b.subarray(start, end) };
  }
}
