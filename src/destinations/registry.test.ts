import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { packagesLoadedBy } from '../../test/helpers/resolved-modules.js';
import { getDestination, listDestinations } from './registry.js';

describe('destination registry', () => {
  it('lists every destination, each with a compilable schema, sane limits and declared secrets', () => {
    expect(listDestinations().map((d) => d.type).sort()).toEqual(['bigquery', 'file', 'kafka', 'nats', 'postgres', 'pubsub', 's3', 'snowflake', 'sns', 'webhook']);
    for (const d of listDestinations()) {
      expect(() => TypeCompiler.Compile(d.configSchema)).not.toThrow();
      expect(d.limits.maxBatch).toBeGreaterThan(0);
      expect(d.limits.maxInFlight).toBeGreaterThan(0);
      for (const f of d.secretFields) expect(Object.keys((d.configSchema as unknown as { properties: object }).properties)).toContain(f);
    }
    expect(getDestination('webhook')?.secretFields).toEqual(['secret', 'previous_secret', 'headers']);
    expect(getDestination('postgres')?.secretFields).toEqual(['connection_string']);
    expect(getDestination('no-such-type')).toBeUndefined();
  });

  it('validates configs: unknown fields, plain-http-looking junk and bad schema names are refused', () => {
    const check = (type: string, config: unknown) => TypeCompiler.Compile(getDestination(type)!.configSchema).Check(config);
    expect(check('webhook', { url: 'https://example.com/hook', secret: 'a-long-enough-secret' })).toBe(true);
    expect(check('webhook', { url: 'https://example.com/hook', secret: 'a-long-enough-secret', extra: 1 })).toBe(false);
    expect(check('webhook', { url: 'ftp://example.com', secret: 'a-long-enough-secret' })).toBe(false);
    expect(check('webhook', { url: 'https://example.com', secret: 'a-long-enough-secret', headers: { 'X-Bad': 'a\r\nInjected: 1' } })).toBe(false);
    expect(check('postgres', { connection_string: 'postgres://u:p@h/db', schema: 'Robert"); drop' })).toBe(false);
    expect(check('postgres', { connection_string: 'postgres://u:p@h/db', schema: 'analytics' })).toBe(true);
    expect(check('file', { format: 'csv' })).toBe(false);
    expect(check('file', { root: 'relative/dir' })).toBe(false);
    expect(check('file', {})).toBe(true);
  });

  it('validates the message-broker configs the dashboard form produces, and refuses malformed ones', () => {
    const check = (type: string, config: unknown) => TypeCompiler.Compile(getDestination(type)!.configSchema).Check(config);
    expect(check('nats', { servers: 'nats://a.example.com:4222, tls://b.example.com:4222', tls: false })).toBe(true);
    expect(check('nats', { servers: 'nats://a:4222', subject: 'events.>' })).toBe(false);
    expect(check('kafka', { brokers: 'b1:9092,b2:9092', topic: 'events', sasl_mechanism: 'scram-sha-256', tls: false, idempotent: true })).toBe(true);
    expect(check('kafka', { brokers: 'b1', topic: 'events' })).toBe(false);
    expect(check('pubsub', { project_id: 'my-project', topic_id: 'events' })).toBe(true);
    expect(check('pubsub', { project_id: 'my-project', topic_id: 'projects/x/topics/y' })).toBe(false);
    expect(check('sns', { topic_arn: 'arn:aws:sns:us-east-1:123456789012:events.fifo', access_key_id: 'AKIAEXAMPLE00000', secret_access_key: 'abcdefghijklmnopqrstu', s3_force_path_style: false })).toBe(true);
    expect(check('sns', { topic_arn: 'arn:aws:sqs:us-east-1:123456789012:q' })).toBe(false);
  });

  // ADR 0120: the API, the dashboard and a delivery thread import the registry; the SDKs load
  // only with a writer of their type (before, importing it loaded all of them: 5.8 s of CPU under tsx).
  it('holds metadata only: importing it loads no SDK, only TypeBox for the schemas', async () => {
    expect(await packagesLoadedBy(new URL('./registry.ts', import.meta.url))).toEqual(['@sinclair/typebox']);
  }, 60_000);
});
