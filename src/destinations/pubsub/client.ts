import { isIP } from 'node:net';
import type { ClientConfig } from '@google-cloud/pubsub';
import type { OutboundGuard } from '../../domain/net.js';

export interface PubSubConfig {
  project_id: string;
  topic_id: string;
  service_account_json?: string;
  api_endpoint?: string;
  publish_timeout_ms?: number;
}

export const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000;

export class PubSubConfigError extends Error {
  override name = 'PubSubConfigError';
}

interface ServiceAccount {
  client_email: string;
  private_key: string;
}

/** The service-account key's credentials; a JSON that is not one is a configuration error (never echoed: it holds a key). */
export function serviceAccount(json: string): ServiceAccount {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new PubSubConfigError('service_account_json is not valid JSON: paste the whole key file a service account key download gives you');
  }
  const sa = parsed as Partial<ServiceAccount> & { type?: string };
  if (typeof sa.client_email !== 'string' || typeof sa.private_key !== 'string' || !sa.private_key.includes('PRIVATE KEY')) {
    throw new PubSubConfigError('service_account_json is not a service-account key: it needs "client_email" and "private_key"');
  }
  return { client_email: sa.client_email, private_key: sa.private_key };
}

/** Google's own endpoints are used as given (TLS, credentials); anything else is an emulator. */
const isGoogleHost = (host: string) => host === 'googleapis.com' || host.endsWith('.googleapis.com');

/**
 * The client options. An emulator endpoint (`host:port`, plain gRPC) is resolved through the
 * outbound guard and the client is pointed at the checked IPv4 address, so the connection goes
 * exactly where the check looked; a `*.googleapis.com` endpoint is passed through.
 */
export async function clientOptions(c: PubSubConfig, guard: OutboundGuard): Promise<ClientConfig> {
  const options: ClientConfig = { projectId: c.project_id };
  if (c.service_account_json) options.credentials = serviceAccount(c.service_account_json);
  if (!c.api_endpoint) return options;
  const m = /^(?:https?:\/\/)?([^/:]+|\[[^\]]+\]):(\d{1,5})\/?$/.exec(c.api_endpoint.trim());
  if (!m) throw new PubSubConfigError(`api_endpoint "${c.api_endpoint}" must be host:port`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  if (isGoogleHost(host)) {
    options.apiEndpoint = `${host}:${m[2]}`;
    return options;
  }
  const addresses = await guard.resolve(host);
  const v4 = addresses.find((a) => isIP(a.address) === 4);
  // The client splits the endpoint on ':' and cannot take an IPv6 literal.
  if (!v4) throw new PubSubConfigError(`api_endpoint ${host} has no IPv4 address; the Pub/Sub client reaches emulators over IPv4 only`);
  options.apiEndpoint = `${v4.address}:${m[2]}`;
  // Emulators take no credentials; without any the library would probe the GCE metadata
  // server (169.254.169.254) looking for default ones. This placeholder is never used.
  options.credentials ??= { client_email: 'emulator@tributary.invalid', private_key: '' };
  return options;
}
