import type { Directory } from './directory.js';
import { Mailbox, type MailboxChange } from './graph/mailbox.js';

/** One mailbox per user, created on first use (Exchange provisions it with the licence). */
export class Mailboxes {
  private readonly byUser = new Map<string, Mailbox>();

  constructor(
    private readonly directory: Directory,
    private readonly now: () => number,
    private readonly onChange: (userId: string, change: MailboxChange) => void,
  ) {}

  get(userKey: string): Mailbox {
    const user = this.directory.requireUser(userKey);
    let m = this.byUser.get(user.id);
    if (!m) {
      m = new Mailbox(user.id, this.now, (c) => this.onChange(user.id, c));
      this.byUser.set(user.id, m);
    }
    return m;
  }
}
