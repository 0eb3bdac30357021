import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import type { DestinationContext } from '../destination.js';
import { FatalError } from '../destination.js';

export interface S3Connection {
  bucket: string;
  region?: string;
  endpoint?: string;
  force_path_style?: boolean;
  access_key_id?: string;
  secret_access_key?: string;
}

/**
 * The S3 client of a writer. Every socket it opens resolves its host through the outbound guard
 * (the agents' `lookup`), and a custom endpoint is checked as a URL first, so a user-given
 * endpoint cannot reach the deployment's own network. Without keys the SDK's default chain
 * (environment, shared files, instance/task roles) supplies credentials.
 */
export function createS3Client(config: S3Connection, ctx: DestinationContext): S3Client {
  if ((config.access_key_id === undefined) !== (config.secret_access_key === undefined)) {
    throw new FatalError('s3 destination: set both access_key_id and secret_access_key, or neither (to use the default credential chain)');
  }
  if (config.endpoint !== undefined) ctx.outbound.checkUrl(config.endpoint);
  const agentOptions = { keepAlive: true, maxSockets: 16, lookup: ctx.outbound.lookup };
  return new S3Client({
    region: config.region ?? 'us-east-1',
    ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.force_path_style ?? false,
    ...(config.access_key_id !== undefined && config.secret_access_key !== undefined
      ? { credentials: { accessKeyId: config.access_key_id, secretAccessKey: config.secret_access_key } }
      : {}),
    // S3-compatible stores (radosgw, MinIO) refuse the SDK's default streaming checksums.
    ...(config.endpoint !== undefined ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    requestHandler: { httpAgent: new HttpAgent(agentOptions), httpsAgent: new HttpsAgent(agentOptions), connectionTimeout: 10_000, requestTimeout: 120_000 },
    maxAttempts: 3,
  });
}
