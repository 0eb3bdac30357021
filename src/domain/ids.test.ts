import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newId, stableId } from './ids.js';

/** The definition the ids in existing logs were made with: a Hash fed each part and a NUL. */
function partByPart(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  return h.digest('base64url').slice(0, 32);
}

describe('stableId', () => {
  it('is the SHA-256 of every part followed by a NUL, as ids already stored were made', () => {
    const cases: string[][] = [
      [],
      [''],
      ['app', 'grant', 'message', 'mid:<a@b>|1700000000'],
      ['grant', 'thread', 'räksmörgås ✉ 😀'],
      // Lone surrogates at part edges are encoded on their own either way (U+FFFD).
      ['\ud83d', '\ude00'],
      ['a\u0000b', 'c'],
    ];
    for (const parts of cases) expect(stableId(...parts)).toBe(partByPart(...parts));
  });

  it('separates parts: moving a boundary changes the id', () => {
    expect(stableId('ab', 'c')).not.toBe(stableId('a', 'bc'));
    expect(stableId('ab', 'c')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});

describe('newId', () => {
  it('is random and URL-safe with the prefix', () => {
    const a = newId('grt_');
    expect(a).toMatch(/^grt_[A-Za-z0-9_-]{22}$/);
    expect(newId('grt_')).not.toBe(a);
  });
});
