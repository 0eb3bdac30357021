import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';
import { newId } from '../domain/ids.js';
import { tokenHash } from './secrets.js';

/**
 * Grant-scoped tokens of POST /v3/connect/token, as Nylas hands them to hosted-auth apps: a
 * short-lived access token (a Bearer credential for that one grant, e.g. GET /v3/grants/me)
 * and a refresh token that rotates on every use. Only hashes are stored; a refresh token that
 * was already rotated and comes back revokes its whole family (it has been copied).
 */
type Ctx = Pick<AppContext, 'store' | 'now'>;

export const ACCESS_TOKEN_TTL_S = 3600;
export const REFRESH_TOKEN_TTL_S = 90 * 24 * 3600;
/** Prefixes that cannot collide with an API key (`trb_…`), so the authenticator knows what it holds. */
export const ACCESS_TOKEN_PREFIX = 'trbat_';
export const REFRESH_TOKEN_PREFIX = 'trbrt_';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const mint = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

/** A new access + refresh token pair for a grant (a new family unless `familyId` continues one). */
export async function issueGrantTokens(ctx: Ctx, t: { applicationId: string; grantId: string; familyId?: string }): Promise<IssuedTokens> {
  const familyId = t.familyId ?? newId('tf_');
  const now = ctx.now().getTime();
  const accessToken = mint(ACCESS_TOKEN_PREFIX);
  const refreshToken = mint(REFRESH_TOKEN_PREFIX);
  const row = (token: string, kind: 'access' | 'refresh', ttl: number) => ({
    id: newId('tk_'),
    token_hash: tokenHash(token),
    kind,
    family_id: familyId,
    application_id: t.applicationId,
    grant_id: t.grantId,
    expires_at: new Date(now + ttl * 1000),
  });
  await ctx.store.db
    .insertInto('grant_tokens')
    .values([row(accessToken, 'access', ACCESS_TOKEN_TTL_S), row(refreshToken, 'refresh', REFRESH_TOKEN_TTL_S)])
    .execute();
  return { accessToken, refreshToken, expiresIn: ACCESS_TOKEN_TTL_S };
}

/** The grant an access token stands for; null when unknown, expired or revoked (or its grant is). */
export async function authenticateAccessToken(ctx: Ctx, token: string): Promise<{ applicationId: string; grantId: string } | null> {
  // A revoked grant's tokens stop working with it (a deleted grant takes its tokens along).
  const row = await ctx.store.db
    .selectFrom('grant_tokens as t')
    .innerJoin('grants as g', 'g.id', 't.grant_id')
    .select(['t.application_id', 't.grant_id'])
    .where('t.token_hash', '=', tokenHash(token))
    .where('t.kind', '=', 'access')
    .where('t.revoked_at', 'is', null)
    .where('t.expires_at', '>', ctx.now())
    .where('g.status', '!=', 'revoked')
    .executeTakeFirst();
  return row ? { applicationId: row.application_id, grantId: row.grant_id } : null;
}

export type Rotation = { status: 'ok'; grantId: string; tokens: IssuedTokens } | { status: 'invalid' } | { status: 'reused' };

/**
 * Redeems a refresh token of `applicationId` for a new pair. The old refresh token is revoked by a
 * conditional UPDATE, so two racing refreshes get one new pair; a revoked one coming back revokes
 * every token of its family ('reused').
 */
export async function rotateRefreshToken(ctx: Ctx, applicationId: string, token: string): Promise<Rotation> {
  const row = await ctx.store.db
    .selectFrom('grant_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash(token))
    .where('kind', '=', 'refresh')
    .where('application_id', '=', applicationId)
    .executeTakeFirst();
  if (!row || row.expires_at.getTime() <= ctx.now().getTime()) return { status: 'invalid' };
  if (row.revoked_at) {
    await revokeFamily(ctx, row.family_id);
    return { status: 'reused' };
  }
  const claimed = await ctx.store.db.updateTable('grant_tokens').set({ revoked_at: ctx.now() }).where('id', '=', row.id).where('revoked_at', 'is', null).executeTakeFirst();
  if (claimed.numUpdatedRows === 0n) return { status: 'invalid' };
  const tokens = await issueGrantTokens(ctx, { applicationId, grantId: row.grant_id, familyId: row.family_id });
  return { status: 'ok', grantId: row.grant_id, tokens };
}

async function revokeFamily(ctx: Ctx, familyId: string): Promise<void> {
  await ctx.store.db.updateTable('grant_tokens').set({ revoked_at: ctx.now() }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
}

/** Revokes an access or refresh token of the application and every token issued with it; false when unknown. */
export async function revokeGrantToken(ctx: Ctx, applicationId: string, token: string): Promise<{ grantId: string } | null> {
  const row = await ctx.store.db
    .selectFrom('grant_tokens')
    .select(['family_id', 'grant_id'])
    .where('token_hash', '=', tokenHash(token))
    .where('application_id', '=', applicationId)
    .executeTakeFirst();
  if (!row) return null;
  await revokeFamily(ctx, row.family_id);
  return { grantId: row.grant_id };
}
