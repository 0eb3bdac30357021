import { Type } from '@sinclair/typebox';

/**
 * Microsoft integration settings. `tenant` is the `{tenant}` path segment of the identity
 * platform: `common`, `organizations`, `consumers`, a tenant GUID or a verified domain. The
 * `x-choices` annotation lets the dashboard offer the three audiences of an Entra app.
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const AUDIENCES = ['common', 'organizations', 'consumers'];

export const MicrosoftSettings = Type.Object(
  {
    tenant: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        title: 'Accounts that may sign in',
        description: 'common, organizations, consumers, a tenant GUID or a domain',
        default: 'common',
        'x-choices': [
          { value: 'organizations', title: 'Any organizational directory (multitenant)', description: 'Work and school accounts of any Microsoft 365 tenant.' },
          { value: 'common', title: 'Any directory and personal Microsoft accounts', description: 'Also Outlook.com accounts.' },
        ],
        'x-other': {
          title: 'This directory only (single tenant)',
          description: 'Only accounts of your own tenant; enter its ID below.',
          label: 'Directory (tenant) ID',
          hint: 'On the app’s Overview page in the Azure portal, or a verified domain.',
          placeholder: '00000000-0000-0000-0000-000000000000',
          pattern: `^(?:${GUID.source.slice(1, -1)}|${DOMAIN.source.slice(1, -1)})$`,
          required: 'Enter the Directory (tenant) ID from the app’s Overview page',
          invalid: 'Use the tenant GUID (Directory ID) or a domain such as contoso.onmicrosoft.com',
        },
        'x-initial': 'organizations',
      }),
    ),
    tracked_folders: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 50, description: 'mail folders to watch (default: inbox)' })),
    backfill_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650, description: 'How many days of existing mail a new grant announces (0: only new mail).' })),
  },
  { additionalProperties: false },
);

/** Returns an error message, or null when the tenant is valid. */
export function tenantError(tenant: string): string | null {
  if (AUDIENCES.includes(tenant)) return null;
  if (GUID.test(tenant) || DOMAIN.test(tenant)) return null;
  return `tenant must be "common", "organizations", "consumers", a tenant GUID or a domain such as contoso.onmicrosoft.com; got "${tenant}"`;
}

export function checkSettings(s: Record<string, unknown>): string | null {
  return typeof s.tenant === 'string' ? tenantError(s.tenant) : null;
}
