import type { TestApi } from './api.js';

/** The calling app's last step of hosted auth: the code on its redirect → POST /v3/connect/token. */
export async function redeemAppCode(api: TestApi, final: URL, redirectUri: string): Promise<{ grant_id: string; email: string; provider: string; scope: string; token_type: string; id_token: string }> {
  const code = final.searchParams.get('code');
  if (!code) throw new Error(`no code: ${final.toString()}`);
  const res = await api.call('POST', '/v3/connect/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: api.applicationId, client_secret: api.key }, null);
  if (res.status !== 200) throw new Error(`token: ${JSON.stringify(res.body)}`);
  return res.body;
}
