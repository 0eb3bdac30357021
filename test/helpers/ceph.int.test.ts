import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { sharedCeph, startCeph } from './ceph.js';

describe('Ceph radosgw test harness', () => {
  it('serves S3 on loopback to the AWS SDK with the settings it documents, once per test run', async () => {
    const ceph = await sharedCeph();
    expect(process.env.TRIBUTARY_TEST_CEPH_DIR).toBeTruthy();
    expect(await sharedCeph()).toStrictEqual(ceph);
    const s3 = new S3Client(ceph.clientConfig);
    const Bucket = `harness-${Date.now()}`;
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'dir/a.txt', Body: 'hello' }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'dir/a.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello');
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: 'missing' }))).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    s3.destroy();
  }, 90_000);

  it('starts two private clusters at once, each on its own ports and talking only to its own monitor', async () => {
    const [a, b] = await Promise.all([startCeph(), startCeph()]);
    try {
      expect(a.endpoint).not.toBe(b.endpoint);
      const [sa, sb] = [new S3Client(a.clientConfig), new S3Client(b.clientConfig)];
      const Bucket = `only-in-a-${Date.now()}`;
      await sa.send(new CreateBucketCommand({ Bucket }));
      await sa.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'a' }));
      // Had b's daemons joined a's monitor, they would share a's pools and see this bucket.
      await expect(sb.send(new GetObjectCommand({ Bucket, Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
      sa.destroy();
      sb.destroy();
    } finally {
      a.stop();
      b.stop();
    }
  }, 240_000);
});
