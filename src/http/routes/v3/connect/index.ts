import type { AppContext } from '../../../../context.js';
import type { Api } from '../../../types.js';
import { registerConnectAuth } from './auth.js';
import { registerConnectAuthLinks } from './auth-links.js';
import { registerConnectCallback } from './callback.js';
import { registerConnectRevoke } from './revoke.js';
import { registerConnectToken } from './token.js';

/** Hosted authentication endpoints (POST /v3/connect/custom, for IMAP, registers itself separately). */
export async function registerConnect(app: Api, ctx: AppContext): Promise<void> {
  registerConnectAuth(app, ctx);
  registerConnectCallback(app, ctx);
  registerConnectToken(app, ctx);
  registerConnectRevoke(app, ctx);
  registerConnectAuthLinks(app, ctx);
}
