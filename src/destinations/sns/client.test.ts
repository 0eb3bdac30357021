import type { AssumeRoleCommand } from '@aws-sdk/nested-clients/sts';
import { describe, expect, it } from 'vitest';
import { testContext } from '../conformance/suite.js';
import { planCalls, runCalls } from './batch.js';
import { clients, credentials, guardedHandler, topicRegion } from './client.js';
import { classifySnsError } from './errors.js';

const handler = guardedHandler(testContext().outbound);

describe('sns credentials', () => {
  it('assumes the role with the external id, from the static keys, and hands the SDK expiring credentials', async () => {
    const calls: { region: string; source: unknown; input: unknown }[] = [];
    // An hour from now, to the second, as STS answers for DurationSeconds 3600: never in the past, whenever the test runs.
    const expiration = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000);
    const sts = (region: string, source: unknown) => ({
      send: async (cmd: AssumeRoleCommand) => {
        calls.push({ region, source, input: cmd.input });
        return { Credentials: { AccessKeyId: 'ASIATEMP', SecretAccessKey: 'temp-secret', SessionToken: 'tok', Expiration: expiration }, $metadata: {} };
      },
    });
    const provider = credentials(
      { topic_arn: 'arn:aws:sns:eu-west-1:123456789012:t', access_key_id: 'AKIASOURCE', secret_access_key: 'source-secret', role_arn: 'arn:aws:iam::123456789012:role/streams', external_id: 'ext-42' },
      'eu-west-1',
      'tributary-str_1',
      handler,
      sts as never,
    );
    expect(typeof provider).toBe('function');
    const creds = await (provider as () => Promise<unknown>)();
    expect(creds).toEqual({ accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', sessionToken: 'tok', expiration });
    expect(calls).toEqual([
      { region: 'eu-west-1', source: { accessKeyId: 'AKIASOURCE', secretAccessKey: 'source-secret' }, input: { RoleArn: 'arn:aws:iam::123456789012:role/streams', RoleSessionName: 'tributary-str_1', DurationSeconds: 3600, ExternalId: 'ext-42' } },
    ]);
  });

  it('static keys, the default chain, and configuration mistakes', () => {
    const arn = 'arn:aws:sns:us-east-2:123456789012:t';
    expect(credentials({ topic_arn: arn, access_key_id: 'AKIA1', secret_access_key: 's' }, 'us-east-2', 'x', handler)).toEqual({ accessKeyId: 'AKIA1', secretAccessKey: 's' });
    expect(credentials({ topic_arn: arn }, 'us-east-2', 'x', handler)).toBeUndefined();
    expect(() => credentials({ topic_arn: arn, access_key_id: 'AKIA1' }, 'us-east-2', 'x', handler)).toThrow(/go together/);
    expect(() => credentials({ topic_arn: arn, external_id: 'e' }, 'us-east-2', 'x', handler)).toThrow(/only with role_arn/);
    expect(topicRegion(arn)).toBe('us-east-2');
    const c = clients({ topic_arn: arn, s3_bucket: 'b' }, testContext().outbound, 'x');
    expect(c.region).toBe('us-east-2');
    expect(c.s3).not.toBeNull();
  });

  it('endpoint overrides are checked by the outbound guard before use', () => {
    expect(() => clients({ topic_arn: 'arn:aws:sns:us-east-1:123456789012:t', endpoint: 'http://169.254.169.254' }, testContext({ allowPrivateAddresses: false }).outbound, 'x')).toThrow(/TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS|https/);
  });

  it('classifies errors: credentials and authorization are fatal, throttling is retried', () => {
    expect(classifySnsError(Object.assign(new Error('bad'), { name: 'InvalidClientTokenId' }), 'arn')).toMatchObject({ fatal: true });
    expect(classifySnsError(Object.assign(new Error('x'), { name: 'AuthorizationErrorException' }), 'arn')).toMatchObject({ fatal: true, reason: expect.stringContaining('sns:Publish') as string });
    expect(classifySnsError(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }), 'arn')).toMatchObject({ retryAfterMs: 2000 });
    expect(classifySnsError(Object.assign(new Error('x'), { name: 'KMSThrottlingException' }), 'arn').fatal).toBeUndefined();
  });
});

describe('sns batch planning', () => {
  const item = (grant: string, size = 100) => ({ grant, size });
  it('at most 10 entries and 256 KB per call, one event of a grant per call, grants in order', () => {
    const items = [...Array.from({ length: 25 }, (_, i) => item(`g${i}`)), item('g0'), item('g0')];
    const calls = planCalls(items);
    expect(calls.every((c) => c.length <= 10)).toBe(true);
    expect(calls.every((c) => new Set(c.map((x) => x.grant)).size === c.length)).toBe(true);
    const g0 = calls.map((c, i) => (c.some((x) => x.grant === 'g0') ? i : -1)).filter((i) => i >= 0);
    expect(g0).toHaveLength(3);
    expect(g0).toEqual([...g0].sort((a, b) => a - b));
    const heavy = planCalls([item('a', 200_000), item('b', 200_000), item('c', 50_000)]);
    expect(heavy.map((c) => c.map((x) => x.grant))).toEqual([['a', 'c'], ['b']]);
  });

  it('a call waits for the earlier calls of its grants; others run concurrently', async () => {
    const calls = planCalls([item('a'), item('b'), item('a'), item('c')]);
    const log: string[] = [];
    await runCalls(calls, 4, async (call) => {
      const names = call.map((x) => x.grant).join('');
      log.push(`start ${names}`);
      await new Promise((r) => setTimeout(r, names.includes('b') ? 30 : 5));
      log.push(`end ${names}`);
    });
    expect(log.indexOf('end abc')).toBeLessThan(log.indexOf('start a'));
  });
});
