/**
 * Snippets: the first characters of a body's visible text, whitespace collapsed. The visible
 * text of HTML is four regex passes (blocks that show nothing, comments, tags, entities). A
 * snippet needs only the start of that text, so the passes first run over a short start of the
 * HTML and keep only the part of each result that the rest of the input cannot change; when
 * that part holds a whole snippet it is the answer, otherwise the passes run as before. The
 * result is the same string either way (see `visibleTextPrefix`).
 */

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const BLOCK = /<(style|script|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
/** BLOCK tried at one position only. */
const BLOCK_AT = /<(style|script|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/iy;
/** Where BLOCK can start (every BLOCK match starts with one of these). */
const BLOCK_OPEN = /<(?:style|script|head|title)\b/gi;
/** Length of the longest BLOCK_OPEN ("<script"): a shorter start of one at the end is not matched yet. */
const LONGEST_OPEN = 7;
const COMMENT = /<!--[\s\S]*?-->/g;
const TAG = /<[^>]*>/g;
const ENTITY = /&(#x[0-9a-f]+|#\d+|[a-z]+);/gi;
/** An `&` whose entity may still be completed by what follows the input. */
const OPEN_ENTITY = /^&[#0-9a-z]*$/i;

function entity(m: string, e: string): string {
  if (e[0] === '#') {
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
  }
  return ENTITIES[e.toLowerCase()] ?? m;
}

/** The visible text of an HTML string. */
export function visibleText(html: string): string {
  return html.replace(BLOCK, ' ').replace(COMMENT, ' ').replace(TAG, ' ').replace(ENTITY, entity);
}

/**
 * `re` (global) replaced in `input`, a prefix of some longer string, up to `cut(input, end)`:
 * the first position, at or after the end of the last match, where a match could start that
 * needs characters beyond the prefix. Valid for patterns whose every such open match lies
 * after the last complete one (comments, tags, entities: an open one would have contained it).
 */
function replaceResolved(input: string, re: RegExp, by: (m: string, g1: string) => string, cut: (input: string, end: number) => number): string {
  let out = '';
  let end = 0;
  re.lastIndex = 0;
  for (let m = re.exec(input); m; m = re.exec(input)) {
    out += input.slice(end, m.index) + by(m[0], m[1]!);
    end = re.lastIndex;
  }
  return out + input.slice(end, cut(input, end));
}

const space = () => ' ';
/** A `<!--` not closed in the input, or a `<` in its last 3 characters (maybe a cut `<!--`). */
const openComment = (s: string, end: number) => {
  const i = s.indexOf('<!--', end);
  if (i >= 0) return i;
  const lt = s.lastIndexOf('<');
  return lt >= end && lt > s.length - 4 ? lt : s.length;
};
/** A `<` without its `>`. */
const openTag = (s: string, end: number) => {
  const i = s.indexOf('<', end);
  return i >= 0 ? i : s.length;
};
const openEntity = (s: string, end: number) => {
  const i = s.lastIndexOf('&');
  return i >= end && OPEN_ENTITY.test(s.slice(i)) ? i : s.length;
};

/**
 * BLOCK removed from a prefix, up to the first opening whose block does not close inside it
 * (it may close further on, and then hides everything up to there) and short of a cut opening.
 */
function removeBlocksResolved(t: string): string {
  // A `<` among the last characters may be an opening cut inside its name.
  const lastLt = t.lastIndexOf('<');
  const limit = lastLt > t.length - LONGEST_OPEN ? lastLt : t.length;
  let out = '';
  let from = 0;
  BLOCK_OPEN.lastIndex = 0;
  for (let m = BLOCK_OPEN.exec(t); m && m.index < limit; m = BLOCK_OPEN.exec(t)) {
    BLOCK_AT.lastIndex = m.index;
    if (!BLOCK_AT.test(t)) return out + t.slice(from, m.index);
    out += `${t.slice(from, m.index)} `;
    from = BLOCK_AT.lastIndex;
    BLOCK_OPEN.lastIndex = from;
  }
  return out + t.slice(from, Math.max(from, limit));
}

/**
 * A prefix of `visibleText(html)` for any `html` that starts with `start`: each pass keeps the
 * part of its output that no later input can change. This holds because every match the
 * patterns find in a prefix is the match they find at that position in the whole string (the
 * lazy and bounded parts stop at the first closing they meet), and a position whose match is
 * still open is where the kept part ends. It may be shorter than it could be, never different.
 */
export function visibleTextPrefix(start: string): string {
  const noBlocks = removeBlocksResolved(start);
  const noComments = replaceResolved(noBlocks, COMMENT, space, openComment);
  const noTags = replaceResolved(noComments, TAG, space, openTag);
  return replaceResolved(noTags, ENTITY, entity, openEntity);
}

/** HTML read first to find a snippet: enough for the text of most mail to begin. */
const FIRST_LOOK = 512;
/** textToSnippet's first window: the snippet comes from at most this much text when it can. */
const TEXT_WINDOW = 1024;
/**
 * Whitespace runs other than a lone space: replacing these by one space is what replacing every
 * `\s+` run does (a lone space stays itself), with far fewer matches in ordinary text.
 */
const WHITESPACE_RUN = /\s\s+|[^\S ]/g;

const collapse = (text: string) => text.replace(WHITESPACE_RUN, ' ');

/**
 * The snippet, when `start` (a prefix of the text) already decides it: whatever follows can
 * only extend its collapsed form (a whitespace run at its end stays one space), so more than
 * `max` characters of it are the first `max` of the snippet textToSnippet would cut.
 */
function decidedBy(start: string, max: number): string | null {
  const flat = collapse(start).trimStart();
  return flat.length > max ? flat.slice(0, max) : null;
}

/** `textToSnippet(visibleText(html), max)`, from the first FIRST_LOOK characters when they suffice. */
function snippetOfHtml(html: string, max: number): string {
  const early = html.length > FIRST_LOOK ? decidedBy(visibleTextPrefix(html.slice(0, FIRST_LOOK)).slice(0, TEXT_WINDOW), max) : null;
  return early ?? textToSnippet(visibleText(html), max);
}

/**
 * The first `max` characters of visible text of an HTML body. Works on a growing prefix (8 KB,
 * then 64 KB): a snippet needs the start of the text, and regexes over whole bodies were the
 * largest cost of the backfill after IMAP itself.
 */
export function htmlToSnippet(html: string, max = 190): string {
  for (const size of [8 * 1024, 64 * 1024]) {
    const snippet = snippetOfHtml(html.length > size ? html.slice(0, size) : html, max);
    if (snippet.length >= max || html.length <= size) return snippet;
  }
  return textToSnippet(visibleText(html.slice(0, 64 * 1024)), max);
}

/**
 * Whitespace-collapsed start of a text, on a growing prefix for the same reason (and first on
 * twice the snippet's length, which decides it for all but whitespace-heavy text).
 */
export function textToSnippet(text: string, max = 190): string {
  const early = text.length > 2 * max && 2 * max < TEXT_WINDOW ? decidedBy(text.slice(0, 2 * max), max) : null;
  if (early !== null) return early;
  for (const size of [TEXT_WINDOW, 16 * 1024]) {
    const flat = collapse(text.length > size ? text.slice(0, size) : text).trim();
    if (flat.length >= max || text.length <= size) return flat.length > max ? flat.slice(0, max) : flat;
  }
  return collapse(text.slice(0, 16 * 1024)).trim().slice(0, max);
}
