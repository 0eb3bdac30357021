import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { APP_REDIRECT, type Harness } from '../microsoft/harness.js';

/**
 * What a browser does between an app's hosted-auth URL and the app's redirect URI: follow
 * Tributary's redirect to the sandbox's sign-in page, sign in as `email` (the sandbox's control
 * API stands in for the person), and follow the sandbox back through Tributary's callback.
 */
export async function signInThroughBrowser(h: Harness, authUrl: string, email: string): Promise<URL> {
  const start = await fetch(authUrl, { redirect: 'manual' });
  if (start.status !== 302) throw new Error(`GET ${authUrl} answered ${start.status}: ${await start.text()}`);
  const approved = h.sb.control.approve(start.headers.get('location')!, { username: email });
  if (!approved.location) throw new Error(`the sandbox refused the sign-in: ${JSON.stringify(approved.error)}`);
  const back = await fetch(approved.location, { redirect: 'manual' });
  if (back.status !== 302) throw new Error(`the callback answered ${back.status}: ${await back.text()}`);
  const final = new URL(back.headers.get('location')!);
  if (`${final.origin}${final.pathname}` !== APP_REDIRECT) throw new Error(`sign-in ended at ${final.toString()}`);
  return final;
}

/** Verifies both signature schemes of a delivery as a receiver holding `secret` would. */
export function verifySignatures(secret: string, headers: IncomingHttpHeaders, body: string): { nylas: boolean; standard: boolean } {
  const nylas = createHmac('sha256', secret).update(body).digest('hex') === headers['x-nylas-signature'];
  // Standard Webhooks: the key is the base64 after "whsec_", signing "{id}.{timestamp}.{body}".
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = `v1,${createHmac('sha256', key).update(`${String(headers['webhook-id'])}.${String(headers['webhook-timestamp'])}.${body}`).digest('base64')}`;
  const standard = String(headers['webhook-signature'] ?? '').split(' ').includes(expected);
  return { nylas, standard };
}
