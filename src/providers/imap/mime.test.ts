import { describe, expect, it } from 'vitest';
import { attachmentsOf, base64DecodedSize, decodeCharset, decodeHeaderBytes, decodeQuotedPrintable, decodeTransfer, headerValue, htmlToSnippet, messageIds, pickBodyPart, textToHtml, type StructureNode } from './mime.js';

const alt: StructureNode = {
  type: 'multipart/mixed',
  childNodes: [
    {
      part: '1',
      type: 'multipart/alternative',
      childNodes: [
        { part: '1.1', type: 'text/plain', parameters: { charset: 'iso-8859-1' }, encoding: 'quoted-printable', size: 10 },
        { part: '1.2', type: 'text/html', parameters: { charset: 'utf-8' }, encoding: 'base64', size: 20 },
      ],
    },
    { part: '2', type: 'application/pdf', parameters: { name: 'a.pdf' }, disposition: 'attachment', dispositionParameters: { filename: 'a.pdf' }, encoding: 'base64', size: 4104 },
    { part: '3', type: 'image/png', id: '<img1@x>', disposition: 'inline', encoding: 'base64', size: 40 },
    { part: '4', type: 'text/plain', disposition: 'attachment', dispositionParameters: { filename: 'notes.txt' }, size: 5 },
  ],
};

describe('pickBodyPart / attachmentsOf', () => {
  it('prefers HTML, skips attachments, and lists the rest as attachment metadata', () => {
    const choice = pickBodyPart(alt);
    expect(choice).toEqual({ section: '1.2', html: true, encoding: 'base64', charset: 'utf-8', size: 20 });
    // The text alternative (1.1) is a body, not an attachment; base64 sizes are decoded sizes.
    expect(attachmentsOf(alt, choice)).toEqual([
      { part: '2', filename: 'a.pdf', contentType: 'application/pdf', size: 3000, inline: false },
      { part: '3', filename: '', contentType: 'image/png', size: 30, inline: true, contentId: 'img1@x' },
      { part: '4', filename: 'notes.txt', contentType: 'text/plain', size: 5, inline: false },
    ]);
  });

  it('reports decoded sizes of wrapped base64, with or without a final line break', () => {
    const wrapped = (bytes: number, width: number, finalBreak: boolean) => {
      const chars = Math.ceil(bytes / 3) * 4;
      const lines = Math.ceil(chars / width);
      return chars + 2 * (finalBreak ? lines : lines - 1);
    };
    for (const bytes of [3, 57, 300, 3000, 3003, 1_000_002, 30_408_705]) {
      // 76 (the RFC's line length, what mailers use) is exact; other widths are off by their extra line breaks at most.
      for (const finalBreak of [true, false]) expect(base64DecodedSize(wrapped(bytes, 76, finalBreak)), `${bytes}`).toBe(bytes);
      expect(base64DecodedSize(wrapped(bytes, 64, false)) / bytes, `${bytes} at 64`).toBeLessThan(1.03);
    }
    // Padding is invisible in the size: at most 2 bytes too many.
    expect(base64DecodedSize(wrapped(3001, 76, false)) - 3001).toBeLessThanOrEqual(2);
  });

  it('falls back to text, and to section 1 for a single-part message', () => {
    expect(pickBodyPart({ type: 'text/plain', size: 3 })).toMatchObject({ section: '1', html: false, charset: 'utf-8', encoding: '7bit' });
    expect(pickBodyPart({ type: 'application/octet-stream' })).toBeNull();
    expect(pickBodyPart(undefined)).toBeNull();
  });

  it('survives absurd nesting', () => {
    let node: StructureNode = { part: 'x', type: 'text/plain' };
    for (let i = 0; i < 100; i++) node = { type: 'multipart/mixed', childNodes: [node] };
    expect(pickBodyPart(node)).toBeNull();
    expect(attachmentsOf(node, null)).toEqual([]);
  });
});

describe('decoding', () => {
  it('decodes quoted-printable, keeping broken escapes', () => {
    expect(decodeQuotedPrintable(Buffer.from('caf=C3=A9 =\r\nsoft =ZZ end=')).toString()).toBe('café soft =ZZ end=');
  });

  it('decodes base64 leniently', () => {
    expect(decodeTransfer(Buffer.from('aGVs\r\nbG8=\r\n'), 'base64').toString()).toBe('hello');
    expect(decodeTransfer(Buffer.from('aGVsbG8*!!garbage'), 'BASE64').toString().startsWith('hello')).toBe(true);
  });

  it('decodes charsets, and falls back for unknown ones', () => {
    expect(decodeCharset(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'iso-8859-1')).toBe('café');
    expect(decodeCharset(Buffer.from([0x82, 0xa0]), 'shift_jis')).toBe('あ');
    expect(decodeCharset(Buffer.from('café'), 'x-unknown-charset')).toBe('café');
    expect(decodeCharset(Buffer.from([0x63, 0xe9]), 'x-unknown-charset')).toBe('cé');
    expect(decodeHeaderBytes(Buffer.from([0x63, 0xe9]))).toBe('cé');
  });
});

describe('html, snippets and headers', () => {
  it('turns text into escaped HTML', () => {
    expect(textToHtml('a < b\r\nc & d\n\n')).toBe('<div>a &lt; b<br>c &amp; d</div>');
  });

  it('extracts visible text for the snippet', () => {
    expect(htmlToSnippet('<html><head><title>t</title><style>x{}</style></head><body><p>Hi&nbsp;&amp;&#233;</p><!-- c --><script>1</script> there</body></html>')).toBe('Hi &é there');
    expect(htmlToSnippet('<p>' + 'word '.repeat(100) + '</p>')).toHaveLength(190);
  });

  it('reads message ids and unfolded headers', () => {
    expect(messageIds('<a@b> junk <c@d>')).toEqual(['a@b', 'c@d']);
    expect(messageIds(undefined)).toEqual([]);
    expect(headerValue(Buffer.from('References: <a@b>\r\n <c@d>\r\n\r\n'), 'references')).toBe('<a@b> <c@d>');
    expect(headerValue(Buffer.from(''), 'references')).toBeUndefined();
  });
});
