import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import { newId } from '../domain/ids.js';
import { randomToken, tokenHash } from './secrets.js';

/**
 * Persistence of hosted-auth sessions, one-time codes and auth links (migrations/0200_oauth.sql).
 * Each is looked up by the hash of its token and consumed with a conditional UPDATE, so it works
 * once even when two requests race, and it survives a restart.
 */
type Ctx = Pick<AppContext, 'store' | 'sealer' | 'now'>;

export const sessionSecretsAad = (id: string) => `auth_sessions.secrets:${id}`;
export const codeIdTokenAad = (id: string) => `auth_codes.id_token:${id}`;

export const SESSION_TTL_MS = 15 * 60_000;
export const CODE_TTL_MS = 5 * 60_000;

export interface NewSession {
  applicationId: string;
  integrationId: string;
  provider: string;
  redirectUri: string;
  appState: string | null;
  appCodeChallenge: string | null;
  appChallengeMethod: string | null;
  loginHint: string | null;
  linkId: string | null;
  codeVerifier: string;
  nonce: string;
}

/** Stores a session; returns the state to send to the provider. */
export async function createSession(ctx: Ctx, s: NewSession): Promise<string> {
  const id = newId('as_');
  const state = randomToken();
  await ctx.store.db
    .insertInto('auth_sessions')
    .values({
      id,
      state_hash: tokenHash(state),
      application_id: s.applicationId,
      integration_id: s.integrationId,
      provider: s.provider,
      redirect_uri: s.redirectUri,
      app_state: s.appState,
      app_code_challenge: s.appCodeChallenge,
      app_challenge_method: s.appChallengeMethod,
      login_hint: s.loginHint,
      link_id: s.linkId,
      secrets: ctx.sealer.seal(JSON.stringify({ code_verifier: s.codeVerifier, nonce: s.nonce }), sessionSecretsAad(id)),
      expires_at: new Date(ctx.now().getTime() + SESSION_TTL_MS),
    })
    .execute();
  return state;
}

export type SessionLookup =
  | { status: 'unknown' }
  | { status: 'used' | 'expired' | 'ok'; session: ConsumedSession };

export interface ConsumedSession extends Omit<NewSession, 'codeVerifier' | 'nonce'> {
  id: string;
  codeVerifier: string;
  nonce: string;
}

/** Finds the session of a callback's state and marks it used (once: a replayed callback finds it used). */
export async function consumeSession(ctx: Ctx, state: string): Promise<SessionLookup> {
  const hash = tokenHash(state);
  const row = await ctx.store.db.selectFrom('auth_sessions').selectAll().where('state_hash', '=', hash).executeTakeFirst();
  if (!row) return { status: 'unknown' };
  const secrets = JSON.parse(ctx.sealer.open(row.secrets, sessionSecretsAad(row.id))) as { code_verifier: string; nonce: string };
  const session: ConsumedSession = {
    id: row.id,
    applicationId: row.application_id,
    integrationId: row.integration_id,
    provider: row.provider,
    redirectUri: row.redirect_uri,
    appState: row.app_state,
    appCodeChallenge: row.app_code_challenge,
    appChallengeMethod: row.app_challenge_method,
    loginHint: row.login_hint,
    linkId: row.link_id,
    codeVerifier: secrets.code_verifier,
    nonce: secrets.nonce,
  };
  if (row.used_at) return { status: 'used', session };
  const claimed = await ctx.store.db.updateTable('auth_sessions').set({ used_at: ctx.now() }).where('id', '=', row.id).where('used_at', 'is', null).executeTakeFirst();
  if (claimed.numUpdatedRows === 0n) return { status: 'used', session };
  if (row.expires_at.getTime() <= ctx.now().getTime()) return { status: 'expired', session };
  return { status: 'ok', session };
}

/** Issues the one-time code handed to the app's redirect URI. */
export async function issueCode(ctx: Ctx, c: { applicationId: string; grantId: string; redirectUri: string; codeChallenge: string | null; challengeMethod: string | null; idToken: string | null }): Promise<string> {
  const id = newId('ac_');
  const code = randomToken();
  await ctx.store.db
    .insertInto('auth_codes')
    .values({
      id,
      code_hash: tokenHash(code),
      application_id: c.applicationId,
      grant_id: c.grantId,
      redirect_uri: c.redirectUri,
      code_challenge: c.codeChallenge,
      challenge_method: c.challengeMethod,
      id_token: c.idToken === null ? null : ctx.sealer.seal(c.idToken, codeIdTokenAad(id)),
      expires_at: new Date(ctx.now().getTime() + CODE_TTL_MS),
    })
    .execute();
  return code;
}

export interface RedeemedCode {
  applicationId: string;
  grantId: string;
  redirectUri: string;
  codeChallenge: string | null;
  challengeMethod: string | null;
  idToken: string | null;
}

/**
 * Consumes a code: 'invalid' when unknown, used or expired (one answer, so nothing leaks about which).
 * With `applicationId`, a code of another application is not touched (a caller cannot burn it).
 */
export async function redeemCode(ctx: Ctx, code: string, applicationId?: string): Promise<RedeemedCode | 'invalid'> {
  let claim = ctx.store.db
    .updateTable('auth_codes')
    .set({ used_at: ctx.now() })
    .where('code_hash', '=', tokenHash(code));
  if (applicationId !== undefined) claim = claim.where('application_id', '=', applicationId);
  const row = await claim
    .where('used_at', 'is', null)
    .where('expires_at', '>', ctx.now())
    .returningAll()
    .executeTakeFirst();
  if (!row) return 'invalid';
  return {
    applicationId: row.application_id,
    grantId: row.grant_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    challengeMethod: row.challenge_method,
    idToken: row.id_token === null ? null : ctx.sealer.open(row.id_token, codeIdTokenAad(row.id)),
  };
}

export async function createLink(ctx: Ctx, l: { applicationId: string; provider: string; loginHint: string | null; redirectUri: string; state: string | null; expiresAt: Date }) {
  const id = newId('al_');
  const token = randomToken();
  await ctx.store.db
    .insertInto('auth_links')
    .values({ id, token_hash: tokenHash(token), application_id: l.applicationId, provider: l.provider, login_hint: l.loginHint, redirect_uri: l.redirectUri, state: l.state, expires_at: l.expiresAt })
    .execute();
  return { id, token };
}

export async function findLink(ctx: Ctx, token: string) {
  return ctx.store.db.selectFrom('auth_links').selectAll().where('token_hash', '=', tokenHash(token)).executeTakeFirst();
}

/** Marks a link used when its grant is made; false when it was used or expired meanwhile. */
export async function consumeLink(ctx: Ctx, id: string): Promise<boolean> {
  const r = await ctx.store.db.updateTable('auth_links').set({ used_at: ctx.now() }).where('id', '=', id).where('used_at', 'is', null).where('expires_at', '>', ctx.now()).executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Deletes what expired more than a day ago (kept a while for "this link was used" answers), grant tokens included. */
export async function pruneExpired(ctx: Ctx): Promise<void> {
  const before = sql<Date>`now() - interval '1 day'`;
  await ctx.store.db.deleteFrom('auth_sessions').where('expires_at', '<', before).execute();
  await ctx.store.db.deleteFrom('auth_codes').where('expires_at', '<', before).execute();
  await ctx.store.db.deleteFrom('auth_links').where('expires_at', '<', before).execute();
  await ctx.store.db.deleteFrom('grant_tokens').where('expires_at', '<', before).execute();
}
