import { Type, type Static } from '@sinclair/typebox';
import { writerOnFirstUse, type DestinationDefinition } from '../destination.js';
import { DEFAULT_ACK_TIMEOUT_MS, DEFAULT_MAX_PENDING } from './defaults.js';
import { DEFAULT_SUBJECT, SUBJECT_PATTERN } from './subject.js';
import type { NatsConfig } from './writer.js';

const pem = (what: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 16_384, pattern: '-----BEGIN ', description: what }));

export const natsConfigSchema = Type.Object(
  {
    servers: Type.String({
      minLength: 1,
      maxLength: 2048,
      pattern: '^\\s*((nats|tls)://)?[A-Za-z0-9.\\-\\[\\]:]+(:\\d{1,5})?\\s*(,\\s*((nats|tls)://)?[A-Za-z0-9.\\-\\[\\]:]+(:\\d{1,5})?\\s*)*$',
      description: 'Comma-separated NATS servers: host:port, nats://host:port or tls://host:port',
    }),
    subject: Type.Optional(
      Type.String({ pattern: SUBJECT_PATTERN, maxLength: 255, default: DEFAULT_SUBJECT, description: 'Subject template; {type} and {grant_id} are replaced. A JetStream stream must capture it (e.g. subjects "tributary.>")' }),
    ),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'User name (with password)' })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Password for user (sealed, never returned)' })),
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Authentication token (sealed, never returned)' })),
    nkey_seed: Type.Optional(Type.String({ pattern: '^\\s*SU[A-Z2-7]{54,}\\s*$', description: 'NKey user seed, SU… (sealed, never returned)' })),
    creds: Type.Optional(Type.String({ minLength: 1, maxLength: 16_384, pattern: 'BEGIN NATS USER JWT', description: 'Contents of a .creds file: user JWT and NKey seed (sealed, never returned)' })),
    tls: Type.Optional(Type.Boolean({ default: false, description: 'Require TLS (also used whenever the server offers it)' })),
    tls_ca: pem('PEM certificate(s) of the CA that signed the server certificate, when it is not a public CA'),
    tls_cert: pem('PEM client certificate, for servers that verify clients'),
    tls_key: pem('PEM private key of the client certificate (sealed, never returned)'),
    ack_timeout_ms: Type.Optional(Type.Integer({ minimum: 500, maximum: 120_000, default: DEFAULT_ACK_TIMEOUT_MS, description: 'How long to wait for each PubAck before the event is retried' })),
    max_pending_acks: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096, default: DEFAULT_MAX_PENDING, description: 'Grants publishing at once (each grant has one publish awaiting its PubAck at a time)' })),
  },
  { additionalProperties: false },
);

const _shape: NatsConfig = {} as Static<typeof natsConfigSchema>;
void _shape;

export const natsDestination: DestinationDefinition<NatsConfig> = {
  type: 'nats',
  title: 'NATS JetStream',
  description: 'One JetStream message per event (CloudEvents JSON, attribute headers), Nats-Msg-Id = event id so the duplicate window drops redeliveries.',
  configSchema: natsConfigSchema,
  secretFields: ['password', 'token', 'nkey_seed', 'creds', 'tls_key'],
  // One connection; the server stores in the order sent, so batches of different grants may overlap.
  limits: { maxBatch: 1000, maxWaitMs: 20, maxInFlight: 4, ordering: 'per-grant' },
  create: writerOnFirstUse<NatsConfig>('nats', async () => {
    const { NatsWriter } = await import('./writer.js');
    return (config, ctx) => new NatsWriter(config, ctx);
  }),
};
