/**
 * The lean MIME layer of the IMAP source. The server already parsed each message for us
 * (ENVELOPE, BODYSTRUCTURE), so all that is left is: pick the one text part worth fetching,
 * undo its transfer encoding, decode its charset, and derive HTML + snippet. Everything here is
 * total: malformed input yields the best text we can get, never an exception.
 */

/** The subset of imapflow's BODYSTRUCTURE node we read (kept local: plug-ins depend on their own types). */
export interface StructureNode {
  part?: string | undefined;
  type: string;
  parameters?: Record<string, string> | undefined;
  id?: string | undefined;
  encoding?: string | undefined;
  size?: number | undefined;
  disposition?: string | undefined;
  dispositionParameters?: Record<string, string> | undefined;
  childNodes?: StructureNode[] | undefined;
}

export interface BodyPartChoice {
  /** IMAP section to fetch, e.g. "1", "1.2". */
  section: string;
  html: boolean;
  encoding: string;
  charset: string;
  size: number;
}

export interface AttachmentNode {
  part: string;
  filename: string;
  contentType: string;
  size: number;
  inline: boolean;
  contentId?: string;
}

// Snippets live in snippet.ts; they are part of this layer's surface.
export { htmlToSnippet, textToSnippet } from './snippet.js';

const isMultipart = (n: StructureNode) => n.type.toLowerCase().startsWith('multipart/');
const sectionOf = (n: StructureNode) => n.part ?? '1';
const filenameOf = (n: StructureNode) => n.dispositionParameters?.filename ?? n.parameters?.name;
const isAttachmentDisposition = (n: StructureNode) => n.disposition?.toLowerCase() === 'attachment';

/**
 * The body to show: the first text/html outside attachments, else the first text/plain.
 * In multipart/alternative the richest alternative wins; elsewhere the first text part.
 */
export function pickBodyPart(root: StructureNode | undefined): BodyPartChoice | null {
  if (!root) return null;
  let html: StructureNode | null = null;
  let text: StructureNode | null = null;
  const walk = (n: StructureNode, depth: number) => {
    if (depth > 20) return;
    if (isMultipart(n)) {
      for (const c of n.childNodes ?? []) walk(c, depth + 1);
      return;
    }
    if (isAttachmentDisposition(n) || (filenameOf(n) !== undefined && n.disposition?.toLowerCase() !== 'inline')) return;
    const type = n.type.toLowerCase();
    if (type === 'text/html' && !html) html = n;
    else if (type === 'text/plain' && !text) text = n;
  };
  walk(root, 0);
  const chosen: StructureNode | null = html ?? text;
  if (!chosen) return null;
  const c: StructureNode = chosen;
  return {
    section: sectionOf(c),
    html: c === html,
    encoding: (c.encoding ?? '7bit').toLowerCase(),
    charset: c.parameters?.charset ?? 'utf-8',
    size: c.size ?? 0,
  };
}

/**
 * The decoded size of a base64 part from its encoded size (what BODYSTRUCTURE gives). MIME wraps
 * base64 in lines of 76 characters joined by CRLF (RFC 2045 §6.8), and the encoded size counts
 * those line breaks: 3,000 bytes are 4,000 characters on 53 lines, 4,104 octets. The character
 * count is recovered for that wrapping, with or without a final CRLF; any other size is taken
 * as unwrapped (other line widths come out a few bytes per line too large). Padding is not
 * visible in the size, so the result can exceed the true size by up to 2 bytes.
 */
export function base64DecodedSize(encoded: number): number {
  const estimate = Math.round((encoded * 76) / 78 / 4) * 4;
  for (let chars = Math.max(4, estimate - 8); chars <= estimate + 8; chars += 4) {
    const breaks = Math.ceil(chars / 76) - 1;
    if (chars + 2 * breaks === encoded || chars + 2 * (breaks + 1) === encoded) return (chars / 4) * 3;
  }
  return Math.floor((encoded * 3) / 4);
}

/** Leaves that are attachments (named, non-text, or marked attachment), except the chosen body. */
export function attachmentsOf(root: StructureNode | undefined, body: BodyPartChoice | null): AttachmentNode[] {
  const out: AttachmentNode[] = [];
  if (!root) return out;
  const walk = (n: StructureNode, depth: number) => {
    if (depth > 20) return;
    if (isMultipart(n)) {
      for (const c of n.childNodes ?? []) walk(c, depth + 1);
      return;
    }
    const section = sectionOf(n);
    if (body && section === body.section) return;
    const type = n.type.toLowerCase();
    const name = filenameOf(n);
    const textual = type === 'text/plain' || type === 'text/html';
    if (textual && name === undefined && !isAttachmentDisposition(n)) return;
    const encoded = n.size ?? 0;
    const a: AttachmentNode = {
      part: section,
      filename: name ?? (type === 'message/rfc822' ? 'message.eml' : ''),
      contentType: type,
      size: (n.encoding ?? '').toLowerCase() === 'base64' ? base64DecodedSize(encoded) : encoded,
      inline: n.disposition?.toLowerCase() === 'inline' || (!n.disposition && n.id !== undefined),
    };
    if (n.id) a.contentId = n.id.replace(/^<|>$/g, '');
    out.push(a);
  };
  walk(root, 0);
  return out;
}

const HEX = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

/** Quoted-printable → bytes. Soft line breaks vanish; a broken escape is kept as written. */
export function decodeQuotedPrintable(input: Buffer): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let o = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== 61 /* = */) {
      out[o++] = c;
      continue;
    }
    const a = input[i + 1];
    const b = input[i + 2];
    if (a === 13 && b === 10) {
      i += 2;
      continue;
    }
    if (a === 10) {
      i += 1;
      continue;
    }
    const hi = a === undefined ? -1 : HEX(a);
    const lo = b === undefined ? -1 : HEX(b);
    if (hi >= 0 && lo >= 0) {
      out[o++] = (hi << 4) | lo;
      i += 2;
    } else {
      out[o++] = c;
    }
  }
  return out.subarray(0, o);
}

export function decodeTransfer(raw: Buffer, encoding: string): Buffer {
  switch (encoding.toLowerCase()) {
    case 'base64':
      // Node's decoder skips whitespace and stops at garbage instead of throwing.
      return Buffer.from(raw.toString('latin1'), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(raw);
    default:
      return raw;
  }
}

const decoders = new Map<string, TextDecoder | null>();

function decoderFor(charset: string): TextDecoder | null {
  // Looked up as written first: nearly every message spells its charset one of a few ways.
  const known = decoders.get(charset);
  if (known !== undefined) return known;
  const key = charset.trim().toLowerCase().replace(/^"|"$/g, '');
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(key);
    } catch {
      d = null;
    }
    if (decoders.size < 200) decoders.set(key, d);
  }
  if (decoders.size < 200) decoders.set(charset, d);
  return d;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/** Bytes → string in the declared charset; an unknown charset falls back to UTF-8, then Latin-1. */
export function decodeCharset(bytes: Buffer, charset: string): string {
  const d = decoderFor(charset || 'utf-8');
  if (d) return d.decode(bytes);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Header bytes that may be raw 8-bit: UTF-8 when valid, else Latin-1 (never mojibake-by-exception). */
export function decodeHeaderBytes(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return lenientUtf8.decode(bytes).includes('\ufffd') ? bytes.toString('latin1') : lenientUtf8.decode(bytes);
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Plain text shown as HTML: escaped, line breaks kept. */
export function textToHtml(text: string): string {
  return `<div>${text.trimEnd().replace(/[&<>"]/g, (c) => ESCAPES[c]!).replace(/\r?\n/g, '<br>')}</div>`;
}

/** Message-ids in a References / In-Reply-To value, in order. */
export function messageIds(value: string | undefined): string[] {
  if (!value) return [];
  return [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
}

const headerPatterns = new Map<string, RegExp>();

/** The value of one header in a raw header block (unfolded), or undefined. */
export function headerValue(block: Buffer | undefined, name: string): string | undefined {
  if (!block || block.length === 0) return undefined;
  const text = decodeHeaderBytes(block).replace(/\r?\n[ \t]+/g, ' ');
  // Compiled once per header name (callers ask for a fixed few), not once per message.
  let re = headerPatterns.get(name);
  if (!re) {
    re = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im');
    if (headerPatterns.size < 50) headerPatterns.set(name, re);
  }
  return re.exec(text)?.[1]?.trim();
}
