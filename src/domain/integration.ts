/** Integration rules every provider shares. Provider-specific settings live in each provider's definition (src/providers/<id>). */

export const SECRET_WARNING_DAYS = 30;

export type SecretHealth = 'ok' | 'expiring' | 'expired';

/** Client secrets expire (at most 24 months on Entra); warn from 30 days before. */
export function secretHealth(expiresAt: Date | null, now: Date): SecretHealth {
  if (!expiresAt) return 'ok';
  const ms = expiresAt.getTime() - now.getTime();
  if (ms <= 0) return 'expired';
  return ms <= SECRET_WARNING_DAYS * 86_400_000 ? 'expiring' : 'ok';
}
