import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { testContext } from '../conformance/suite.js';
import { clientOptions, serviceAccount } from './client.js';
import { classifyPublishError } from './errors.js';

const topic = 'projects/p/topics/t';
const err = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

describe('pubsub error classification', () => {
  it('credentials, permission and missing topic are fatal and say what to do; quota is retried; INVALID_ARGUMENT refuses the message', () => {
    expect(classifyPublishError(err(status.UNAUTHENTICATED, 'Request had invalid authentication credentials.'), topic, 'sa@p.iam')).toMatchObject({ fatal: true, status: 401, reason: expect.stringContaining('rejected the credentials') as string });
    expect(classifyPublishError(err(status.PERMISSION_DENIED, 'User not authorized'), topic, 'sa@p.iam')).toMatchObject({ fatal: true, reason: expect.stringContaining('grant it roles/pubsub.publisher') as string });
    expect(classifyPublishError(err(status.NOT_FOUND, 'Resource not found'), topic, 'x')).toMatchObject({ fatal: true, status: 404 });
    expect(classifyPublishError(err(status.RESOURCE_EXHAUSTED, 'quota'), topic, 'x')).toMatchObject({ status: 429, retryAfterMs: 5000 });
    expect(classifyPublishError(err(status.INVALID_ARGUMENT, 'too large'), topic, 'x')).toEqual({ rejected: 'Pub/Sub refused the message: too large' });
    // The client wraps an ordering-key failure in a PublishError that keeps the gRPC code.
    const wrapped = Object.assign(new Error('Unable to publish for key "g1". Reason: unavailable'), { code: status.UNAVAILABLE, error: { details: 'unavailable' } });
    expect(classifyPublishError(wrapped, topic, 'x')).toMatchObject({ ok: false, reason: expect.stringContaining('UNAVAILABLE') as string });
  });

  it('service-account JSON: a readable refusal that never echoes the key', () => {
    expect(() => serviceAccount('not json -----BEGIN PRIVATE KEY-----')).toThrow(/not valid JSON/);
    expect(() => serviceAccount('{"client_email":"a@b"}')).toThrow(/needs "client_email" and "private_key"/);
    const refused = (() => {
      try {
        serviceAccount('{"private_key":"secret-material"}');
        return null;
      } catch (e) {
        return e as Error;
      }
    })();
    expect(refused?.message).toMatch(/not a service-account key/);
    expect(refused?.message).not.toContain('secret-material');
  });

  it('emulator endpoints are pinned to the checked IPv4 address; googleapis endpoints pass through', async () => {
    const guard = testContext().outbound;
    expect(await clientOptions({ project_id: 'p', topic_id: 't', api_endpoint: 'localhost:8085' }, guard)).toMatchObject({ apiEndpoint: '127.0.0.1:8085', projectId: 'p' });
    expect(await clientOptions({ project_id: 'p', topic_id: 't', api_endpoint: 'europe-west1-pubsub.googleapis.com:443' }, guard)).toEqual({ projectId: 'p', apiEndpoint: 'europe-west1-pubsub.googleapis.com:443' });
    await expect(clientOptions({ project_id: 'p', topic_id: 't', api_endpoint: 'localhost:8085' }, testContext({ allowPrivateAddresses: false }).outbound)).rejects.toThrow(/TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS/);
  });
});
