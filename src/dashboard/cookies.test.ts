import { describe, expect, it } from 'vitest';
import { readCookie, sessionCookie, sessionCookieName } from './cookies.js';

describe('session cookie', () => {
  it('uses the __Host- prefix and Secure only over https', () => {
    expect(sessionCookieName('https://tributary.example.com')).toBe('__Host-tributary_session');
    expect(sessionCookie('https://t.example.com', 'v'.repeat(20), 60)).toBe(`__Host-tributary_session=${'v'.repeat(20)}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure`);
    expect(sessionCookie('http://127.0.0.1:4000', 'v'.repeat(20), 0)).toBe(`tributary_session=${'v'.repeat(20)}; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
  });

  it('reads its cookie among others and ignores malformed values', () => {
    const v = 'abcdefghijklmnopqrstuvwxyz012345';
    expect(readCookie(`a=1; tributary_session=${v}; b=2`, 'tributary_session')).toBe(v);
    expect(readCookie('tributary_session=short', 'tributary_session')).toBeNull();
    expect(readCookie('tributary_session=<script>aaaaaaaaaaaaaaaa', 'tributary_session')).toBeNull();
    expect(readCookie(undefined, 'tributary_session')).toBeNull();
  });
});
