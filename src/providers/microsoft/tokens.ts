import { ProviderError } from '../provider.js';
import { tokenFailure } from './errors.js';
import { refreshTokens, type MicrosoftCredentials, type TokenClient } from './token.js';

/** Refresh at least this often even when access tokens live longer (refresh tokens die after 90 idle days). */
export const MAX_REFRESH_AGE_MS = 24 * 3600_000;

/**
 * A grant's tokens inside one session: hands out an access token, refreshing it a little before
 * it expires (and at least daily), one refresh at a time, and saves every rotated refresh token
 * before using the new access token. The session runs under the grant's sync lease, so this is
 * the only refresher of the grant across processes while it lives (see ADR 0400).
 */
export class TokenKeeper {
  private inflight: Promise<string> | null = null;

  constructor(
    readonly grantId: string,
    private creds: MicrosoftCredentials,
    private readonly client: TokenClient,
    private readonly scope: string[],
    private readonly save: (c: MicrosoftCredentials) => Promise<void>,
  ) {}

  get credentials(): MicrosoftCredentials {
    return this.creds;
  }

  private needsRefresh(): boolean {
    const now = this.client.now().getTime();
    const lifetime = Math.max(60_000, this.creds.expires_at - this.creds.refreshed_at);
    const margin = Math.min(5 * 60_000, lifetime / 4);
    return !this.creds.access_token || this.creds.expires_at - now <= margin || now - this.creds.refreshed_at >= MAX_REFRESH_AGE_MS;
  }

  async accessToken(): Promise<string> {
    if (this.inflight) return this.inflight;
    if (!this.needsRefresh()) return this.creds.access_token;
    return this.refresh();
  }

  /** Refreshes now (after a 401), joining a refresh already under way. */
  refresh(): Promise<string> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async doRefresh(): Promise<string> {
    if (!this.creds.refresh_token) throw new ProviderError('reauth', 'no refresh token: the grant was authorized without offline_access');
    let fresh;
    try {
      fresh = await refreshTokens(this.client, this.creds.refresh_token, this.scope);
    } catch (err) {
      throw tokenFailure(err);
    }
    const next: MicrosoftCredentials = { ...this.creds, ...fresh.credentials };
    await this.save(next);
    this.creds = next;
    return next.access_token;
  }

  /** Merges non-token fields (the subscription) and saves them with the tokens. */
  async update(patch: Partial<MicrosoftCredentials>): Promise<void> {
    const next = { ...this.creds, ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
    await this.save(next);
    this.creds = next;
  }
}
