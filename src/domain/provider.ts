/** The providers Tributary can connect to. One integration per provider per application. */
export const PROVIDERS = ['microsoft', 'google', 'imap', 'zoom'] as const;
export type ProviderId = (typeof PROVIDERS)[number];

export function isProvider(value: string): value is ProviderId {
  return (PROVIDERS as readonly string[]).includes(value);
}
