import { describe, expect, it } from 'vitest';
import { parsePrefer, parseSelect, splitPath } from './request.js';

describe('Graph request parsing', () => {
  it('reads Prefer from one comma-separated header or several headers', () => {
    expect(parsePrefer('odata.maxpagesize=25, IdType="ImmutableId"')).toEqual({ immutableIds: true, maxPageSize: 25 });
    expect(parsePrefer(['IdType="ImmutableId"', 'odata.maxpagesize=5'])).toEqual({ immutableIds: true, maxPageSize: 5 });
    expect(parsePrefer('IdType="RestId"')).toEqual({ immutableIds: false });
    expect(parsePrefer(undefined)).toEqual({ immutableIds: false });
  });

  it("splits OData key segments: mailFolders('inbox') and users('id')", () => {
    expect(splitPath("me/mailFolders('inbox')/messages/delta")).toEqual(['me', 'mailFolders', 'inbox', 'messages', 'delta']);
    expect(splitPath("/users('a%40b.com')/messages")).toEqual(['users', 'a@b.com', 'messages']);
    expect(splitPath('me/mailFolders/AQMk-x_y=/messages')).toEqual(['me', 'mailFolders', 'AQMk-x_y=', 'messages']);
  });

  it('parses $select lists', () => {
    expect(parseSelect('subject, from ,id')).toEqual(['subject', 'from', 'id']);
    expect(parseSelect('')).toBeUndefined();
  });
});
