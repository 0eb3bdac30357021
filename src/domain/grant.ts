import type { ProviderId } from './provider.js';
import { GRANT_EVENT_CODES, SOURCES, type NewEvent } from './event.js';
import { stableId } from './ids.js';

export const GRANT_STATUSES = ['valid', 'expired', 'revoked'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

/** Allowed status transitions. A revoked grant is final; an expired one is revived by re-authentication. */
const transitions: Record<GrantStatus, readonly GrantStatus[]> = {
  valid: ['expired', 'revoked'],
  expired: ['valid', 'revoked'],
  revoked: [],
};

export function canTransition(from: GrantStatus, to: GrantStatus): boolean {
  return from === to || transitions[from].includes(to);
}

export interface Grant {
  id: string;
  applicationId: string;
  integrationId: string;
  provider: ProviderId;
  email: string;
  status: GrantStatus;
  scope: string[];
  providerUserId: string | null;
  settings: Record<string, unknown>;
  syncState: Record<string, unknown>;
  lastSyncAt: Date | null;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type GrantEventType = 'grant.created' | 'grant.updated' | 'grant.expired' | 'grant.deleted';

/**
 * Builds a grant lifecycle event. `occurrence` distinguishes repeated events of one type for
 * one grant (each re-authentication, each expiry) while keeping retries of the same occurrence
 * idempotent.
 */
export function grantEvent(args: {
  type: GrantEventType;
  grant: Pick<Grant, 'id' | 'applicationId' | 'integrationId' | 'provider' | 'email' | 'updatedAt'>;
  occurrence: string;
  reauthenticated?: boolean;
  loginId?: string;
  now?: Date;
}): NewEvent {
  const { grant } = args;
  const code = args.reauthenticated ? GRANT_EVENT_CODES['grant.reauthenticated'] : GRANT_EVENT_CODES[args.type];
  const now = args.now ?? new Date();
  const object: Record<string, unknown> = {
    code,
    grant_id: grant.id,
    integration_id: grant.integrationId,
    provider: grant.provider,
    email: grant.email,
    grant_updated_at: Math.floor(grant.updatedAt.getTime() / 1000),
  };
  if (args.loginId) object.login_id = args.loginId;
  return {
    id: stableId(grant.applicationId, grant.id, args.type, args.occurrence),
    type: args.type,
    source: SOURCES.system,
    time: Math.floor(now.getTime() / 1000),
    grantId: grant.id,
    provider: grant.provider,
    object,
  };
}
