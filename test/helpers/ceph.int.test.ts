import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { sharedCeph } from './ceph.js';

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
});
