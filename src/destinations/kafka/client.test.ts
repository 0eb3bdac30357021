import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { testContext } from '../conformance/suite.js';
import { clientConfig, IDEMPOTENT_MAX_IN_FLIGHT, producerConfig } from './client.js';
import { classifyKafkaError } from './errors.js';

const { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError, KafkaJSConnectionError } = kafkajs;
/** kafkajs's typings declare its error classes with narrower constructors than the runtime has. */
const make = (C: unknown, ...args: unknown[]) => new (C as new (...a: unknown[]) => Error)(...args);
const ctx = () => ({ guard: testContext().outbound, logger: testContext().logger, streamId: 'str_1' });

describe('kafka producer configuration', () => {
  it('is idempotent by default: acks=all is enforced by the producer, at most 5 requests in flight, no auto-created topics', () => {
    expect(producerConfig({ brokers: 'b:9092', topic: 't' })).toMatchObject({ idempotent: true, maxInFlightRequests: IDEMPOTENT_MAX_IN_FLIGHT, allowAutoTopicCreation: false });
    expect(IDEMPOTENT_MAX_IN_FLIGHT).toBeLessThanOrEqual(5);
    expect(producerConfig({ brokers: 'b:9092', topic: 't', idempotent: false }).idempotent).toBe(false);
    // kafkajs refuses an idempotent producer without retries; ours always keeps at least one.
    expect(producerConfig({ brokers: 'b:9092', topic: 't', retries: 0 }).retry?.retries).toBe(1);
  });

  it('the idempotent producer kafkajs builds from it starts (no configuration error)', () => {
    const kafka = new kafkajs.Kafka(clientConfig({ brokers: '127.0.0.1:1', topic: 't' }, ctx()));
    expect(() => kafka.producer(producerConfig({ brokers: '127.0.0.1:1', topic: 't' }))).not.toThrow();
  });

  it('SASL and TLS options: mechanisms need both user and password, a certificate needs its key', () => {
    const c = clientConfig({ brokers: 'a:9092, b:9093', topic: 't', sasl_mechanism: 'scram-sha-512', sasl_username: 'u', sasl_password: 'p', tls: true }, ctx());
    expect(c.brokers).toEqual(['a:9092', 'b:9093']);
    expect(c.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(c.ssl).toEqual({ rejectUnauthorized: true });
    expect(typeof c.socketFactory).toBe('function');
    expect(() => clientConfig({ brokers: 'a:1', topic: 't', sasl_mechanism: 'plain', sasl_username: 'u' }, ctx())).toThrow(/needs sasl_username and sasl_password/);
    expect(() => clientConfig({ brokers: 'a:1', topic: 't', sasl_password: 'p' }, ctx())).toThrow(/need sasl_mechanism/);
    expect(() => clientConfig({ brokers: 'a:1', topic: 't', tls_cert: '-----BEGIN' }, ctx())).toThrow(/needs its key/);
  });
});

describe('kafka error classification', () => {
  it('credentials and authorization are fatal with what to grant; connection trouble is retried', () => {
    expect(classifyKafkaError(make(KafkaJSSASLAuthenticationError, 'SASL PLAIN authentication failed'), 't')).toMatchObject({ fatal: true, reason: expect.stringContaining('rejected the SASL credentials') as string });
    const topicDenied = make(KafkaJSNumberOfRetriesExceeded, make(KafkaJSProtocolError, { type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'Not authorized' }), { retryCount: 1, retryTime: 1 });
    expect(classifyKafkaError(topicDenied, 'events')).toMatchObject({ fatal: true, reason: expect.stringContaining('WRITE and DESCRIBE on the topic') as string });
    const cluster = make(KafkaJSProtocolError, { type: 'CLUSTER_AUTHORIZATION_FAILED', code: 31, retriable: false, message: 'x' });
    expect(classifyKafkaError(cluster, 't')).toMatchObject({ fatal: true, reason: expect.stringContaining('IdempotentWrite') as string });
    const down = classifyKafkaError(make(KafkaJSConnectionError, 'Connection error: connect ECONNREFUSED 127.0.0.1:1'), 't');
    expect(down.fatal).toBeUndefined();
    expect(down.reason).toContain('ECONNREFUSED');
  });
});
