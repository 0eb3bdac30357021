import type { ImapFlow } from 'imapflow';

/**
 * Push for IMAP: keep INBOX selected so imapflow enters IDLE (after its short autoIdleDelay,
 * re-issued every maxIdleTime), and turn the server's EXISTS into a sync hint. A dropped
 * connection is a hint too: the pass that follows fails fast and the engine reconnects with
 * backoff. Other tracked folders are covered by the fallback pass.
 */
export async function watchInbox(client: ImapFlow, onHint: (reason: string) => void): Promise<() => Promise<void>> {
  const onExists = (data: { path: string; count: number; prevCount: number }) => {
    if (data.path === 'INBOX' && data.count > data.prevCount) onHint('idle');
  };
  const onClose = () => onHint('connection closed');
  client.on('exists', onExists);
  client.on('close', onClose);
  if (!client.mailbox || client.mailbox.path !== 'INBOX') await client.mailboxOpen('INBOX');
  return async () => {
    client.off('exists', onExists);
    client.off('close', onClose);
  };
}
