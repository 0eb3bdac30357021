import { describe, expect, it } from 'vitest';
import { parseScopes, scopeString } from './scopes.js';

describe('scopes', () => {
  it('treats Graph scopes with and without the resource prefix alike, case-insensitively', () => {
    const p = parseScopes('openid offline_access https://graph.microsoft.com/Mail.Read user.read');
    expect([...p.all].sort()).toEqual(['mail.read', 'offline_access', 'openid', 'user.read']);
    expect(p.invalid).toBeUndefined();
  });

  it('names the first invalid scope', () => {
    expect(parseScopes('openid Mail.Teleport User.Read').invalid).toBe('Mail.Teleport');
  });

  it('answers Graph permissions in canonical spelling and OIDC scopes without offline_access', () => {
    expect(scopeString(parseScopes('offline_access openid profile mail.read eas.accessasuser.all').all)).toBe('Mail.Read EAS.AccessAsUser.All openid profile');
  });
});
