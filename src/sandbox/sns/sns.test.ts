import { CreateTopicCommand, GetTopicAttributesCommand, PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSnsSandbox, type SnsSandbox } from './index.js';

const KEY = { accessKeyId: 'AKIASANDBOXTEST001', secretAccessKey: 'sandbox-test-secret' };
let sandbox: SnsSandbox;
let sns: SNSClient;
const client = (credentials: { accessKeyId: string; secretAccessKey: string }, region = 'us-east-1') => new SNSClient({ endpoint: sandbox.endpoint, region, credentials, maxAttempts: 1 });
const fails = (p: Promise<unknown>) => p.then(() => null, (e: { name: string; message: string; $metadata?: { httpStatusCode?: number } }) => ({ name: e.name, message: e.message, status: e.$metadata?.httpStatusCode }));

beforeAll(async () => {
  sandbox = await startSnsSandbox({ keys: [KEY] });
  sns = client(KEY);
});
afterAll(async () => {
  sns.destroy();
  await sandbox.close();
});

describe('sns sandbox (official client)', () => {
  it('verifies SigV4: unknown key, wrong secret, wrong region', async () => {
    expect(await fails(client({ accessKeyId: 'AKIANOPE00000000', secretAccessKey: 'x' }).send(new CreateTopicCommand({ Name: 't' })))).toMatchObject({ name: 'InvalidClientTokenId', status: 403 });
    expect(await fails(client({ ...KEY, secretAccessKey: 'wrong' }).send(new CreateTopicCommand({ Name: 't' })))).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });
    expect(await fails(client(KEY, 'eu-west-1').send(new CreateTopicCommand({ Name: 't' })))).toMatchObject({ name: 'SignatureDoesNotMatch' });
  });

  it('topics: idempotent create, attributes, NotFound', async () => {
    const a = await sns.send(new CreateTopicCommand({ Name: 'orders.fifo', Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'true' } }));
    const b = await sns.send(new CreateTopicCommand({ Name: 'orders.fifo', Attributes: { FifoTopic: 'true' } }));
    expect(a.TopicArn).toBe(`arn:aws:sns:us-east-1:123456789012:orders.fifo`);
    expect(b.TopicArn).toBe(a.TopicArn);
    const attrs = await sns.send(new GetTopicAttributesCommand({ TopicArn: a.TopicArn }));
    expect(attrs.Attributes).toMatchObject({ TopicArn: a.TopicArn, FifoTopic: 'true', ContentBasedDeduplication: 'true' });
    expect(await fails(sns.send(new GetTopicAttributesCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:none' })))).toMatchObject({ name: 'NotFoundException', status: 404 });
    expect(await fails(sns.send(new CreateTopicCommand({ Name: 'bad.fifo' })))).toMatchObject({ name: 'InvalidParameterException' });
  });

  it('limits: 256 KB per message, 10 entries and 256 KB per batch, distinct entry ids', async () => {
    const arn = (await sns.send(new CreateTopicCommand({ Name: 'limits' }))).TopicArn!;
    expect(await fails(sns.send(new PublishCommand({ TopicArn: arn, Message: 'x'.repeat(262_145) })))).toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Message too long' });
    expect(await fails(sns.send(new PublishCommand({ TopicArn: arn, Message: 'x'.repeat(262_000), MessageAttributes: { a: { DataType: 'String', StringValue: 'y'.repeat(200) } } })))).toMatchObject({ name: 'InvalidParameterException' });
    const entries = (n: number, size = 10) => Array.from({ length: n }, (_, i) => ({ Id: `m${i}`, Message: 'x'.repeat(size) }));
    expect(await fails(sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries(11) })))).toMatchObject({ name: 'TooManyEntriesInBatchRequestException' });
    expect(await fails(sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries(2, 140_000) })))).toMatchObject({ name: 'BatchRequestTooLongException' });
    expect(await fails(sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: [{ Id: 'a', Message: 'x' }, { Id: 'a', Message: 'y' }] })))).toMatchObject({ name: 'BatchEntryIdsNotDistinctException' });
    const ok = await sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries(10) }));
    expect(ok.Successful).toHaveLength(10);
  });

  it('FIFO: group id required per entry, dedupe within 5 minutes by the clock, sequence numbers', async () => {
    const arn = (await sns.send(new CreateTopicCommand({ Name: 'fifo-rules.fifo', Attributes: { FifoTopic: 'true' } }))).TopicArn!;
    const out = await sns.send(
      new PublishBatchCommand({
        TopicArn: arn,
        PublishBatchRequestEntries: [
          { Id: 'ok', Message: 'a', MessageGroupId: 'g', MessageDeduplicationId: 'd1' },
          { Id: 'nogroup', Message: 'b', MessageDeduplicationId: 'd2' },
          { Id: 'nodedupe', Message: 'c', MessageGroupId: 'g' },
        ],
      }),
    );
    expect(out.Successful!.map((s) => s.Id)).toEqual(['ok']);
    expect(out.Successful![0]!.SequenceNumber).toMatch(/^\d+$/);
    expect(out.Failed!.map((f) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ['nogroup', 'InvalidParameter', true],
      ['nodedupe', 'InvalidParameter', true],
    ]);
    const again = await sns.send(new PublishCommand({ TopicArn: arn, Message: 'a', MessageGroupId: 'g', MessageDeduplicationId: 'd1' }));
    expect(again.MessageId).toBe(out.Successful![0]!.MessageId);
    expect(sandbox.control.fifoMessages(arn)).toHaveLength(1);
    sandbox.control.advance(5 * 60_000);
    await sns.send(new PublishCommand({ TopicArn: arn, Message: 'a', MessageGroupId: 'g', MessageDeduplicationId: 'd1' }));
    expect(sandbox.control.fifoMessages(arn)).toHaveLength(2);
    const http = await fetch(`${sandbox.endpoint}/_control/topics/${encodeURIComponent(arn)}/messages`).then((r) => r.json() as Promise<{ messages: unknown[] }>);
    expect(http.messages).toHaveLength(2);
  });

  it('Throttling and AuthorizationError on demand', async () => {
    const arn = (await sns.send(new CreateTopicCommand({ Name: 'faults' }))).TopicArn!;
    sandbox.control.throttle(1);
    expect(await fails(sns.send(new PublishCommand({ TopicArn: arn, Message: 'x' })))).toMatchObject({ name: 'Throttling', message: 'Rate exceeded' });
    sandbox.control.deny(arn);
    expect(await fails(sns.send(new PublishCommand({ TopicArn: arn, Message: 'x' })))).toMatchObject({ name: 'AuthorizationErrorException', status: 403 });
    sandbox.control.allow(arn);
    expect(await sns.send(new PublishCommand({ TopicArn: arn, Message: 'x' }))).toMatchObject({ MessageId: expect.any(String) as string });
  });
});
