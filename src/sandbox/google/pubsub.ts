import { randomInt } from 'node:crypto';
import type { Accounts } from './accounts.js';

/**
 * A Pub/Sub push subscription: for each Gmail change on a watched mailbox it POSTs
 * `{ message: { data: base64 JSON {emailAddress, historyId}, messageId, publishTime }, subscription }`
 * to the endpoint with an OIDC token (`Authorization: Bearer`, audience and service-account
 * email as configured), retrying non-2xx answers a few times. It can drop or duplicate pushes,
 * and sign with a foreign key, for tests.
 */
export interface PushSubscription {
  name: string;
  topic: string;
  endpoint: string;
  audience: string;
  serviceAccountEmail: string;
}

export interface PushLogEntry {
  endpoint: string;
  emailAddress: string;
  historyId: string;
  status: number | 'dropped' | 'error';
}

export class PushSender {
  readonly subscriptions: PushSubscription[] = [];
  readonly log: PushLogEntry[] = [];
  private drop = 0;
  private duplicate = 0;
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly accounts: Accounts) {}

  add(s: PushSubscription): void {
    this.subscriptions.push(s);
  }

  dropNext(n: number): void {
    this.drop += n;
  }

  duplicateNext(n: number): void {
    this.duplicate += n;
  }

  publish(topic: string, emailAddress: string, historyId: number): void {
    for (const s of this.subscriptions.filter((x) => x.topic === topic)) {
      if (this.drop > 0) {
        this.drop--;
        this.log.push({ endpoint: s.endpoint, emailAddress, historyId: String(historyId), status: 'dropped' });
        continue;
      }
      const copies = this.duplicate > 0 ? (this.duplicate--, 2) : 1;
      for (let i = 0; i < copies; i++) {
        const p = this.send(s, emailAddress, historyId).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
    }
  }

  private async send(s: PushSubscription, emailAddress: string, historyId: number): Promise<void> {
    const body = JSON.stringify({
      message: { data: Buffer.from(JSON.stringify({ emailAddress, historyId })).toString('base64'), messageId: String(randomInt(1e9, 9e9)), publishTime: new Date().toISOString(), attributes: {} },
      subscription: s.name,
    });
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const token = await this.accounts.sign({ aud: s.audience, azp: '1' + String(randomInt(1e9, 9e9)), email: s.serviceAccountEmail, email_verified: true, sub: String(randomInt(1e9, 9e9)) });
        const res = await fetch(s.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer().catch(() => undefined);
        this.log.push({ endpoint: s.endpoint, emailAddress, historyId: String(historyId), status: res.status });
        if (res.ok) return;
      } catch {
        this.log.push({ endpoint: s.endpoint, emailAddress, historyId: String(historyId), status: 'error' });
      }
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }

  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }
}
