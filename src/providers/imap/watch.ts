import type { ImapFlow } from 'imapflow';

/**
 * While mail is flowing, poll instead of waiting on IDLE. Servers coalesce IDLE notifications:
 * Dovecot holds an untagged EXISTS back for 500 ms after the first change it sees in a fresh
 * IDLE, so a steady trickle of mail would wait about half a second for every other message.
 * A NOOP makes the server look at the mailbox right away. Polling is bounded: only for
 * HOT_WINDOW_MS after the last new mail, at most one NOOP per HOT_POLL_MS, never while a sync
 * pass uses the connection; then the connection falls back to plain IDLE.
 */
export const HOT_POLL_MS = 100;
export const HOT_WINDOW_MS = 3_000;

export interface WatchOptions {
  /** True while a sync pass uses the connection (its own commands see new mail anyway). */
  busy?: () => boolean;
  now?: () => number;
}

/**
 * Push for IMAP: keep INBOX selected so imapflow enters IDLE (after its short autoIdleDelay,
 * re-issued every maxIdleTime), and turn the server's EXISTS into a sync hint. A dropped
 * connection is a hint too: the pass that follows fails fast and the engine reconnects with
 * backoff. Other tracked folders are covered by the fallback pass.
 */
export async function watchInbox(client: ImapFlow, onHint: (reason: string) => void, opts: WatchOptions = {}): Promise<() => Promise<void>> {
  const now = opts.now ?? Date.now;
  let hotUntil = 0;
  let timer: NodeJS.Timeout | null = null;
  /** One poll chain at most: set from the first hot EXISTS until the window closes. */
  let polling = false;
  let stopped = false;
  const poll = () => {
    timer = null;
    if (stopped || !client.usable || now() >= hotUntil) {
      polling = false;
      return;
    }
    const next = () => {
      if (stopped) polling = false;
      else timer = setTimeout(poll, HOT_POLL_MS);
    };
    // A NOOP's EXISTS comes back through onExists (a hint, and a longer hot window).
    if (opts.busy?.()) next();
    else client.noop().then(next, next);
  };
  const onExists = (data: { path: string; count: number; prevCount: number }) => {
    if (data.path !== 'INBOX' || data.count <= data.prevCount) return;
    hotUntil = now() + HOT_WINDOW_MS;
    if (!polling && !stopped) {
      polling = true;
      timer = setTimeout(poll, HOT_POLL_MS);
    }
    onHint('idle');
  };
  const onClose = () => onHint('connection closed');
  client.on('exists', onExists);
  client.on('close', onClose);
  if (!client.mailbox || client.mailbox.path !== 'INBOX') await client.mailboxOpen('INBOX');
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    client.off('exists', onExists);
    client.off('close', onClose);
  };
}
