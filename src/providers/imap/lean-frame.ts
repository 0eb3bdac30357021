/**
 * Splits an IMAP server's byte stream into whole responses: a line plus the literals its lines
 * announce (`{n}` / `{n+}` / `~{n}` at a line's end, RFC 3501 §4.3, RFC 3516 literal8). Works
 * on socket chunks as they come (a literal or a line may be cut anywhere), and bounds memory:
 * a line, a literal and a whole response each have a ceiling, and crossing one is an
 * `ImapProtocolError` (the stream cannot be trusted after that, so the caller drops it).
 */

/** The server sent something this reader will not accept; the connection is no longer in sync. */
export class ImapProtocolError extends Error {
  override name = 'ImapProtocolError';
}

export interface FrameLimits {
  /** Longest line outside literals (a BODYSTRUCTURE of many parts is one line). */
  maxLine: number;
  /** Largest literal (a body part, capped by what the plug-in asks for). */
  maxLiteral: number;
  /** Largest response: every line and literal of one response together. */
  maxResponse: number;
}

const LF = 10;
const CR = 13;
const CLOSE_BRACE = 125;
const OPEN_BRACE = 123;

export class ResponseFramer {
  /** Bytes received but not yet part of an emitted response. */
  private parts: Buffer[] = [];
  private held = 0;
  /** Offset (in the held bytes) where the current response starts is always 0; where scanning resumes. */
  private pos = 0;
  /** Start of the line being scanned. */
  private lineStart = 0;
  /** Literal bytes still to come before the line scan resumes. */
  private need = 0;
  private failed: ImapProtocolError | null = null;

  constructor(private readonly limits: FrameLimits) {}

  /** Feeds one chunk; `emit` gets each complete response (a view valid until the next push). */
  push(chunk: Buffer, emit: (response: Buffer) => void): void {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.held += chunk.length;
    try {
      this.scan(emit);
    } catch (err) {
      this.failed = err instanceof ImapProtocolError ? err : new ImapProtocolError((err as Error).message);
      this.parts = [];
      this.held = 0;
      throw this.failed;
    }
  }

  private scan(emit: (response: Buffer) => void): void {
    for (;;) {
      if (this.need > 0) {
        const available = this.held - this.pos;
        // A literal arriving in many chunks is only collected, never re-copied chunk by chunk.
        if (available < this.need) {
          this.need -= available;
          this.pos = this.held;
          return;
        }
        this.pos += this.need;
        this.need = 0;
        this.lineStart = this.pos;
      }
      const buf = this.flat();
      const lf = buf.indexOf(LF, this.pos);
      if (lf < 0) {
        if (buf.length - this.lineStart > this.limits.maxLine) throw new ImapProtocolError(`a response line is longer than ${this.limits.maxLine} bytes`);
        this.pos = buf.length;
        return;
      }
      if (lf - this.lineStart > this.limits.maxLine) throw new ImapProtocolError(`a response line is longer than ${this.limits.maxLine} bytes`);
      const literal = literalAtLineEnd(buf, this.lineStart, lf);
      if (literal >= 0) {
        if (literal > this.limits.maxLiteral) throw new ImapProtocolError(`the server announced a literal of ${literal} bytes (at most ${this.limits.maxLiteral} expected)`);
        if (lf + 1 + literal > this.limits.maxResponse) throw new ImapProtocolError(`a response is larger than ${this.limits.maxResponse} bytes`);
        this.pos = lf + 1;
        this.need = literal;
        if (literal === 0) this.lineStart = this.pos;
        continue;
      }
      // The response ends with this line.
      const end = lf + 1;
      emit(buf.subarray(0, end));
      const rest = buf.subarray(end);
      this.parts = rest.length > 0 ? [rest] : [];
      this.held = rest.length;
      this.pos = 0;
      this.lineStart = 0;
    }
  }

  /** The held bytes as one buffer (joined only when a line has to be scanned across chunks). */
  private flat(): Buffer {
    if (this.parts.length !== 1) {
      const joined = Buffer.concat(this.parts, this.held);
      this.parts = [joined];
    }
    return this.parts[0]!;
  }
}

/**
 * The size of the literal a line announces (`... {123}\r\n`, `{123+}`, `~{123}`), or -1.
 * Strict: digits only, at most 10 of them.
 */
export function literalAtLineEnd(buf: Buffer, start: number, lf: number): number {
  let i = lf - 1;
  if (i < start || buf[i] !== CR) throw new ImapProtocolError('a response line does not end with CRLF');
  i--;
  if (i < start || buf[i] !== CLOSE_BRACE) return -1;
  i--;
  if (i >= start && buf[i] === 43 /* + */) i--;
  let n = 0;
  let scale = 1;
  let digits = 0;
  while (i >= start && buf[i]! >= 48 && buf[i]! <= 57) {
    n += (buf[i]! - 48) * scale;
    scale *= 10;
    digits++;
    i--;
  }
  if (digits === 0 || i < start || buf[i] !== OPEN_BRACE) return -1;
  if (digits > 10) throw new ImapProtocolError('a literal size has more than 10 digits');
  return n;
}
