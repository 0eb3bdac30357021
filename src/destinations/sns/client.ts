import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/nested-clients/sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { OutboundGuard } from '../../domain/net.js';

export interface SnsConfig {
  topic_arn: string;
  region?: string;
  endpoint?: string;
  access_key_id?: string;
  secret_access_key?: string;
  session_token?: string;
  role_arn?: string;
  external_id?: string;
  s3_bucket?: string;
  s3_prefix?: string;
  s3_region?: string;
  s3_endpoint?: string;
  s3_force_path_style?: boolean;
}

export class SnsConfigError extends Error {
  override name = 'SnsConfigError';
}

export function topicRegion(arn: string): string {
  return arn.split(':')[3] ?? '';
}

export const isFifo = (arn: string) => arn.endsWith('.fifo');

/** Static keys, or undefined for the default provider chain. */
function staticCredentials(c: SnsConfig): AwsCredentialIdentity | undefined {
  if (!c.access_key_id && !c.secret_access_key) {
    if (c.session_token) throw new SnsConfigError('session_token needs access_key_id and secret_access_key');
    return undefined;
  }
  if (!c.access_key_id || !c.secret_access_key) throw new SnsConfigError('access_key_id and secret_access_key go together');
  return { accessKeyId: c.access_key_id, secretAccessKey: c.secret_access_key, ...(c.session_token ? { sessionToken: c.session_token } : {}) };
}

export type StsFactory = (region: string, credentials: AwsCredentialIdentity | undefined) => Pick<STSClient, 'send'>;

/**
 * Credentials for SNS and S3: an assumed role (sts:AssumeRole with the external id, from the
 * static keys or the default chain; renewed by the SDK before it expires), static keys, or the
 * default provider chain (environment, profile, container or instance role).
 */
export function credentials(c: SnsConfig, region: string, sessionName: string, handler: NodeHttpHandler, sts?: StsFactory): AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined {
  const source = staticCredentials(c);
  if (!c.role_arn) {
    if (c.external_id) throw new SnsConfigError('external_id is used only with role_arn');
    return source;
  }
  const client = sts ? sts(region, source) : new STSClient({ region, requestHandler: handler, ...(source ? { credentials: source } : {}) });
  return async () => {
    const out = await client.send(
      new AssumeRoleCommand({ RoleArn: c.role_arn, RoleSessionName: sessionName.slice(0, 64), DurationSeconds: 3600, ...(c.external_id ? { ExternalId: c.external_id } : {}) }),
    );
    const k = out.Credentials;
    if (!k?.AccessKeyId || !k.SecretAccessKey) throw new Error(`sts:AssumeRole on ${c.role_arn} returned no credentials`);
    return { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey, ...(k.SessionToken ? { sessionToken: k.SessionToken } : {}), ...(k.Expiration ? { expiration: k.Expiration } : {}) };
  };
}

/** One HTTP handler for SNS, S3 and STS: every socket resolves through the outbound guard. */
export function guardedHandler(guard: OutboundGuard): NodeHttpHandler {
  const options = { keepAlive: true, maxSockets: 64, lookup: guard.lookup };
  return new NodeHttpHandler({ httpAgent: new HttpAgent(options), httpsAgent: new HttpsAgent(options), connectionTimeout: 10_000, requestTimeout: 30_000 });
}

/** An endpoint override, checked before use (IP literals skip the socket lookup). */
function endpoint(raw: string | undefined, guard: OutboundGuard): string | undefined {
  if (!raw) return undefined;
  return guard.checkUrl(raw).toString().replace(/\/$/, '');
}

export interface Clients {
  sns: SNSClient;
  s3: S3Client | null;
  region: string;
}

export function clients(c: SnsConfig, guard: OutboundGuard, sessionName: string, sts?: StsFactory): Clients {
  const region = c.region ?? topicRegion(c.topic_arn);
  const handler = guardedHandler(guard);
  const creds = credentials(c, region, sessionName, handler, sts);
  const common = { requestHandler: handler, maxAttempts: 3, ...(creds ? { credentials: creds } : {}) };
  const snsEndpoint = endpoint(c.endpoint, guard);
  const sns = new SNSClient({ ...common, region, ...(snsEndpoint ? { endpoint: snsEndpoint } : {}) });
  let s3: S3Client | null = null;
  if (c.s3_bucket) {
    const s3Endpoint = endpoint(c.s3_endpoint, guard);
    s3 = new S3Client({
      ...common,
      region: c.s3_region ?? region,
      ...(s3Endpoint ? { endpoint: s3Endpoint } : {}),
      forcePathStyle: c.s3_force_path_style ?? false,
      // Checksums only where S3 requires them: S3-compatible stores refuse the streaming ones.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }
  return { sns, s3, region };
}
