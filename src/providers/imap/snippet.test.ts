import { describe, expect, it } from 'vitest';
import { htmlToSnippet, textToSnippet, visibleText, visibleTextPrefix } from './snippet.js';

/** Pieces that exercise every pass and every way a prefix can cut one open. */
const PIECES = [
  '<style>', '</style >', '</style', '<STYLE type="x">', '<styles>', '<style-x>', '</STYLE>', '<head>', '</head>', '<title>', '</title>',
  '<script a=">">', '</script>', '<!--', '-->', '<!-', '--', '<', '>', '<p>', '</p>', '<b', '<br/>', '&amp;', '&AMP;', '&#x41;', '&#X1F600;',
  '&#65;', '&#0;', '&nbsp;', '&bogus;', '&', '#', 'x', ';', 'a', ' ', '  ', '\n', '\t', '\u00a0', 'word', 'Grüße ', '😀', '</',
];

/** A small deterministic generator (no dependency, same strings every run). */
function* randomHtml(count: number, seed = 1): Generator<string> {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let n = 0; n < count; n++) {
    const parts: string[] = [];
    const len = 1 + Math.floor(next() * 60);
    for (let i = 0; i < len; i++) parts.push(next() < 0.3 ? 'lorem ipsum dolor sit amet '.repeat(1 + Math.floor(next() * 4)) : PIECES[Math.floor(next() * PIECES.length)]!);
    yield parts.join('');
  }
}

/** textToSnippet and htmlToSnippet as they were defined before they looked at a short start first. */
function referenceText(text: string, max = 190): string {
  const flat = (n: number) => text.slice(0, n).replace(/\s+/g, ' ').trim();
  const first = flat(1024);
  if (first.length >= max || text.length <= 1024) return first.slice(0, max);
  return flat(16 * 1024).slice(0, max);
}
function reference(html: string, max = 190): string {
  for (const size of [8 * 1024, 64 * 1024]) {
    const snippet = referenceText(visibleText(html.slice(0, size)), max);
    if (snippet.length >= max || html.length <= size) return snippet;
  }
  return referenceText(visibleText(html.slice(0, 64 * 1024)), max);
}

describe('visibleTextPrefix', () => {
  it('is a prefix of the visible text of the whole, wherever the input is cut', () => {
    for (const html of randomHtml(200)) {
      const whole = visibleText(html);
      for (let cut = 0; cut <= html.length; cut++) {
        const part = visibleTextPrefix(html.slice(0, cut));
        if (!whole.startsWith(part)) expect({ html, cut, part }).toEqual({ html, cut, part: whole.slice(0, part.length) });
      }
    }
  });

  it('keeps what nothing later can change', () => {
    expect(visibleTextPrefix('<p>Hello &amp; <b>bye</b> there')).toBe(' Hello &  bye  there');
    // Open at the cut: a block, a comment, a tag, an entity.
    expect(visibleTextPrefix('one <style>p{}')).toBe('one ');
    expect(visibleTextPrefix('one <!-- x')).toBe('one ');
    expect(visibleTextPrefix('one <a href')).toBe('one ');
    expect(visibleTextPrefix('one &am')).toBe('one ');
    expect(visibleTextPrefix('one <scr')).toBe('one ');
    expect(visibleTextPrefix(`<p style="margin:0">${'words and more '.repeat(200)}`.slice(0, 2048)).length).toBeGreaterThan(1900);
  });
});

describe('htmlToSnippet', () => {
  it('equals the four passes over the whole 8 KB start, on generated HTML of every size', () => {
    for (const html of randomHtml(300, 7)) {
      const long = html.repeat(1 + Math.floor(9000 / (html.length + 1)) * (html.length % 3));
      expect(htmlToSnippet(long)).toBe(reference(long));
      expect(htmlToSnippet(long, 20)).toBe(reference(long, 20));
    }
  });

  it('does not let a block that closes beyond the first look leak into the snippet', () => {
    const html = `<html><head><style>${'p { color: red; } '.repeat(300)}</style></head><body><p>${'Visible words here. '.repeat(20)}</p></body></html>`;
    expect(htmlToSnippet(html)).toBe(reference(html));
    expect(htmlToSnippet(html).startsWith('Visible words here.')).toBe(true);
  });
});

describe('textToSnippet', () => {
  it('equals collapsing the whole first kilobyte, for every kind and amount of whitespace', () => {
    const ws = [' ', '  ', '\n', '\r\n', '\t', '\u00a0', '\u2028', '\ufeff', ' \n '];
    let seed = 3;
    const next = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let n = 0; n < 500; n++) {
      const parts: string[] = [];
      const words = Math.floor(next() * 400);
      const spacing = next();
      for (let i = 0; i < words; i++) parts.push(next() < spacing ? ws[Math.floor(next() * ws.length)]!.repeat(1 + Math.floor(next() * 30)) : 'wörd😀'.slice(0, 1 + Math.floor(next() * 6)));
      const text = parts.join('');
      for (const max of [190, 20, 600]) expect(textToSnippet(text, max), JSON.stringify({ n, max })).toBe(referenceText(text, max));
    }
  });
});
