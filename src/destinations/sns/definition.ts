import { Type } from '@sinclair/typebox';
import { defineDestination, writerOnFirstUse } from '../destination.js';
import { TOPIC_ARN_PATTERN } from './arn.js';
import type { SnsConfig } from './client.js';

const URL_PATTERN = '^https?://[^\\s/]+/?$';

export const snsConfigSchema = Type.Object(
  {
    topic_arn: Type.String({ pattern: TOPIC_ARN_PATTERN, description: 'arn:aws:sns:REGION:ACCOUNT:NAME (a name ending in .fifo is a FIFO topic)' }),
    region: Type.Optional(Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d$', description: "AWS region; default: the topic ARN's region" })),
    endpoint: Type.Optional(Type.String({ pattern: URL_PATTERN, maxLength: 255, description: 'SNS endpoint override (VPC endpoint, compatible service); https' })),
    access_key_id: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{16,128}$', description: 'Access key id; empty: the default credential chain of this deployment' })),
    secret_access_key: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'Secret access key (sealed, never returned)' })),
    session_token: Type.Optional(Type.String({ minLength: 16, maxLength: 4096, description: 'Session token of temporary keys (sealed, never returned)' })),
    role_arn: Type.Optional(Type.String({ pattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$', description: 'Role to assume (sts:AssumeRole) with the keys above or the default chain' })),
    external_id: Type.Optional(Type.String({ pattern: '^[\\w+=,.@:/-]{2,1224}$', description: 'External id the role trust policy requires' })),
    s3_bucket: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', description: 'Bucket for events over 256 KB (SNS extended client layout); empty: such events go to dead letters' })),
    s3_prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9!_.*()/-]{0,512}$', description: 'Key prefix in the bucket; the key is prefix + event id' })),
    s3_region: Type.Optional(Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d$', description: "The bucket's region; default: the topic's" })),
    s3_endpoint: Type.Optional(Type.String({ pattern: URL_PATTERN, maxLength: 255, description: 'S3 endpoint override (S3-compatible stores)' })),
    s3_force_path_style: Type.Optional(Type.Boolean({ default: false, description: 'Path-style bucket addressing (most S3-compatible stores)' })),
  },
  { additionalProperties: false },
);

export const snsDestination = defineDestination<SnsConfig>({
  type: 'sns',
  title: 'Amazon SNS',
  description: 'PublishBatch of CloudEvents JSON with type/id/grant_id/application_id/source attributes; FIFO group = grant id, dedupe id = event id; events over 256 KB offloaded to S3.',
  configSchema: snsConfigSchema,
  secretFields: ['secret_access_key', 'session_token'],
  // Up to 16 PublishBatch calls at once per batch; a grant's events go out call after call.
  limits: { maxBatch: 500, maxWaitMs: 20, maxInFlight: 4, ordering: 'per-grant' },
  create: writerOnFirstUse<SnsConfig>('sns', async () => {
    const { SnsWriter } = await import('./writer.js');
    return (config, ctx) => new SnsWriter(config, ctx);
  }),
});
