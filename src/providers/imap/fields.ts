import { Type } from '@sinclair/typebox';

/**
 * The IMAP schemas: integration defaults (host, port, security a grant falls back to) and the
 * credentials POST /v3/connect/custom takes. Titles and `x-errors` are what the dashboard shows.
 */
const HOST = '^[A-Za-z0-9.:\\[\\]-]+$';
const Security = (title: string) =>
  Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')], {
    title,
    description: 'tls (port 993), starttls (143) or none (testing only)',
    'x-labels': { tls: 'TLS', starttls: 'STARTTLS', none: 'None (testing only)' },
  });
const Port = Type.Integer({ minimum: 1, maximum: 65535, title: 'Port', 'x-errors': { range: 'A port between 1 and 65535' } });

export const ImapIntegrationSettings = Type.Object(
  {
    imap_host: Type.Optional(Type.String({ minLength: 1, maxLength: 255, title: 'Default IMAP host', description: 'Pre-filled for account owners; they can change it when they connect.', examples: ['imap.example.com'] })),
    imap_port: Type.Optional({ ...Port, default: 993 }),
    imap_security: Type.Optional({ ...Security('Security'), default: 'tls' }),
    tracked_folders: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 50, description: 'folders to watch (default: INBOX)' })),
    backfill_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650, description: 'How many days of existing mail a new grant announces (0: only new mail).' })),
  },
  { additionalProperties: false },
);

export const ImapCredentialFields = Type.Object(
  {
    imap_username: Type.String({ minLength: 1, maxLength: 320, title: 'User name', description: 'Empty: the email address.', 'x-default-from': 'email', 'x-errors': { required: 'Enter the IMAP user name (usually the email address)' } }),
    imap_password: Type.String({ minLength: 1, maxLength: 1000, title: 'Password', writeOnly: true, description: 'Sealed at rest, never shown again. Many providers need an app password.', 'x-errors': { required: 'Enter the mailbox password (or app password)' } }),
    imap_host: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: HOST, title: 'IMAP host', description: 'Empty: the integration’s default.', 'x-default-from': 'integration', 'x-errors': { pattern: 'A host name such as imap.example.com' } })),
    imap_port: Type.Optional({ ...Port, 'x-default-from': 'integration', default: 993 }),
    imap_security: Type.Optional({ ...Security('Security'), 'x-default-from': 'integration', default: 'tls' }),
  },
  { additionalProperties: false },
);
