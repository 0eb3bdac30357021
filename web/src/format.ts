/** Human-readable times and numbers for tables and cards. */
const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const dtf = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });
const nf = new Intl.NumberFormat('en');

export function ago(unix: number | null | undefined, now = Date.now()): string {
  if (!unix) return '—';
  const s = Math.round(unix - now / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return s <= 0 ? 'just now' : 'in a moment';
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(s / 3600), 'hour');
  if (abs < 86_400 * 45) return rtf.format(Math.round(s / 86_400), 'day');
  return dtf.format(new Date(unix * 1000));
}

const df = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' });
/** A calendar date (secret expiry dates are whole days, stored as UTC midnight). */
export const date = (unix: number | null | undefined): string => (unix ? df.format(new Date(unix * 1000)) : '—');
export const dateTime = (unix: number | null | undefined): string => (unix ? dtf.format(new Date(unix * 1000)) : '—');
export const num = (n: number): string => nf.format(n);

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

export const daysUntil = (unix: number, now = Date.now()): number => Math.ceil((unix * 1000 - now) / 86_400_000);
